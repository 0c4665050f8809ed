"""Domain errors as i18n keys, and the one error handler that answers the user."""

from __future__ import annotations

import html
import logging
import re

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import Lang, resolve_language, translate
from bot.services import get_services
from handlers.common import chat_language

log = logging.getLogger(__name__)
ANSWER_LIMIT = 200  # answerCallbackQuery text: 0-200 characters, plain text
_TAG = re.compile(r"<[^>]*>")


class UserError(Exception):
    """Something the user can fix; the message is the i18n key `key` with `params`."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def plain_text(text: str, *, limit: int = ANSWER_LIMIT) -> str:
    """Telegram HTML as plain text (for callback answers), cut to `limit` characters."""
    flat = html.unescape(_TAG.sub("", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def _language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Lang:
    """The reply language, falling back to the user's own when the database is the problem."""
    try:
        return await chat_language(update, context)
    except Exception:  # the error being handled may be the database itself
        user = update.effective_user
        default = get_services(context).settings.default_language
        return resolve_language(None, user.language_code if user else None, default)


def _message_for(error: BaseException | None, lang: Lang) -> str:
    """The user-facing text: the translated UserError, else the generic apology."""
    if isinstance(error, UserError):
        return translate(lang, error.key, **error.params)
    return translate(lang, "errors.generic")


async def _answer(update: Update, text: str) -> None:
    """Deliver `text` the way this kind of update can be answered."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(plain_text(text), show_alert=True)
            return
        except TelegramError:  # already answered (e.g. failed after answering): say it in chat
            pass
    if update.inline_query is not None:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif update.effective_message is not None and update.callback_query is None:
        await update.effective_message.reply_text(text)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the user in their language; log everything that is not a UserError."""
    error = context.error
    if not isinstance(error, UserError):
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("error handling update %s", update_id, exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        text = _message_for(error, await _language(update, context))
        await _answer(update, text)
    except Exception:  # the reply itself failed (blocked, network): nothing more to do
        log.warning("could not answer update %s", update.update_id, exc_info=True)
