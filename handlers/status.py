"""/status: the chat's subscription, settings, the last digest delivered to it, and where its
Korean summaries come from."""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.config import Settings
from bot.i18n import Lang, translate
from bot.services import get_services
from handlers.common import COMMAND_UPDATES, chat_language
from handlers.settings import describe_settings
from storage import chats

# Delivery records live in storage.deliveries (the delivery issue); until that module offers
# `last_delivery(session, *, chat_id)` → an object with `digest_date` and `sent_at`, or None,
# /status says that nothing was delivered yet.
LastDelivery = Callable[..., Awaitable[Any]]


def last_delivery_lookup() -> LastDelivery | None:
    """`storage.deliveries.last_delivery` when it exists."""
    try:
        module = importlib.import_module("storage.deliveries")
    except ModuleNotFoundError:
        return None
    found = getattr(module, "last_delivery", None)
    return found if callable(found) else None


def local_time(moment: dt.datetime, zone: str) -> str:
    """A UTC moment as `YYYY-MM-DD HH:MM` in the chat's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


async def _delivery_line(session: AsyncSession, chat: chats.Chat, lang: Lang) -> str:
    """The last delivery, or "none yet"."""
    lookup = last_delivery_lookup()
    delivery = await lookup(session, chat_id=chat.chat_id) if lookup else None
    if delivery is None:
        return translate(lang, "status.no_delivery")
    return translate(
        lang,
        "status.last_delivery",
        date=delivery.digest_date.isoformat(),
        when=f"{local_time(delivery.sent_at, chat.timezone)} ({chat.timezone})",
    )


def _subscription_line(chat: chats.Chat, lang: Lang) -> str:
    """Subscribed since when, not subscribed, or paused because unreachable."""
    if not chat.subscribed:
        return translate(lang, "status.not_subscribed")
    if not chat.active:
        return translate(lang, "status.inactive")
    since = chat.subscribed_at or chat.created_at
    return translate(lang, "status.subscribed", since=local_time(since, chat.timezone))


def summaries_line(settings: Settings, lang: Lang) -> str:
    """Whether Korean summaries are generated (and by which model), or what chats get instead."""
    if settings.summary_api_base_url:
        return translate(lang, "status.summaries_generated", model=settings.summary_model)
    return translate(lang, "status.summaries_off")


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: anyone in the chat may look."""
    services = get_services(context)
    lang = await chat_language(update, context)
    assert update.effective_chat is not None
    assert update.effective_message is not None
    title = update.effective_chat.title or translate(lang, "settings.this_chat")
    async with services.sessions() as session:
        chat = await chats.get_chat(session, chat_id=update.effective_chat.id)
        if chat is None:
            lines = [
                translate(lang, "status.not_subscribed"),
                translate(lang, "status.no_delivery"),
            ]
        else:
            lines = [
                _subscription_line(chat, lang),
                describe_settings(chat, lang),
                await _delivery_line(session, chat, lang),
            ]
    head = translate(lang, "status.title", chat=title)
    lines.append(summaries_line(services.settings, lang))
    settings = services.settings
    if settings.summary_api_base_url and settings.search_expansion:
        lines.append(translate(lang, "status.search_expanded", model=settings.summary_model))
    text = "\n\n".join([head, *lines, translate(lang, "status.change")])
    await update.effective_message.reply_text(text)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("status", status, filters=COMMAND_UPDATES),
]
