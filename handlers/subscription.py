"""/subscribe and /unsubscribe (private chats, groups, channels) and group → supergroup moves."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.i18n import translate
from bot.services import get_services
from handlers.common import (
    COMMAND_UPDATES,
    chat_kind,
    chat_language,
    chat_title,
    is_chat_admin,
    user_language_code,
)
from handlers.errors import UserError
from storage import chats
from storage.deliveries import move_chat_rows

log = logging.getLogger(__name__)


async def subscribe_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe this chat (administrators only in groups) and say when the digest comes."""
    if not await is_chat_admin(update, context):
        raise UserError("common.admins_only")
    services = get_services(context)
    assert update.effective_chat is not None
    assert update.effective_message is not None
    async with services.sessions() as session, session.begin():
        chat, changed = await chats.subscribe(
            session,
            chat_id=update.effective_chat.id,
            type=chat_kind(update),
            title=chat_title(update),
            delivery_time=services.settings.default_delivery_time.strftime("%H:%M"),
            timezone=services.settings.default_timezone,
            now=services.clock(),
            user_language=user_language_code(update),
        )
    key = "subscription.subscribed" if changed else "subscription.already"
    text = translate(
        await chat_language(update, context), key, time=chat.delivery_time, timezone=chat.timezone
    )
    await update.effective_message.reply_text(text)


async def unsubscribe_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe: stop the daily digest here (settings are kept)."""
    if not await is_chat_admin(update, context):
        raise UserError("common.admins_only")
    services = get_services(context)
    assert update.effective_chat is not None
    assert update.effective_message is not None
    async with services.sessions() as session, session.begin():
        changed = await chats.unsubscribe(
            session, chat_id=update.effective_chat.id, now=services.clock()
        )
    key = "subscription.unsubscribed" if changed else "subscription.not_subscribed"
    await update.effective_message.reply_text(translate(await chat_language(update, context), key))


async def chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its subscription and settings follow it to the new id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    services = get_services(context)
    old_id, new_id, now = message.chat.id, message.migrate_to_chat_id, services.clock()
    async with services.sessions() as session, session.begin():
        await chats.migrate_chat(session, old_id=old_id, new_id=new_id, now=now)
        # Queued rows follow in the same transaction: a dispatch pass that sees the supergroup
        # subscribed also sees today's digest already queued for it, and queues no second one.
        # A row being sent stays with its worker, which moves it on Telegram's ChatMigrated.
        await move_chat_rows(session, old_id=old_id, new_id=new_id, now=now, unclaimed_only=True)
    context.application.migrate_chat_data(message=message)
    log.info("chat %s migrated to %s", message.chat.id, message.migrate_to_chat_id)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("subscribe", subscribe_chat, filters=COMMAND_UPDATES),
    CommandHandler("unsubscribe", unsubscribe_chat, filters=COMMAND_UPDATES),
    MessageHandler(filters.StatusUpdate.MIGRATE & filters.UpdateType.MESSAGE, chat_migrated),
]
