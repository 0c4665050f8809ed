"""/start (with deep links), /help, and the answers to anything else said in a private chat."""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.i18n import translate
from handlers.common import COMMAND_UPDATES, chat_language
from handlers.lookup import show_paper
from handlers.subscription import subscribe_chat

# Deep-link payloads allow only [A-Za-z0-9_-], so `paper_2401_00908` stands for 2401.00908.
_PAPER_LINK = re.compile(r"paper[_-](?P<year>\d{4})[._-](?P<number>\d{4,5})(?:v\d+)?")


def paper_from_payload(payload: str) -> str | None:
    """The arXiv id in a `paper_<id>` deep-link payload, or None."""
    match = _PAPER_LINK.fullmatch(payload)
    return f"{match['year']}.{match['number']}" if match else None


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a welcome, or the deep link's paper or subscription."""
    payload = (
        (context.args or [""])[0] if len(context.args or ()) == 1 else " ".join(context.args or ())
    )
    if payload == "sub":
        await subscribe_chat(update, context)
        return
    arxiv_id = paper_from_payload(payload)
    if arxiv_id is not None:
        await show_paper(update, context, arxiv_id)
        return
    lang = await chat_language(update, context)
    assert update.effective_message is not None
    if payload:
        await update.effective_message.reply_text(translate(lang, "start.bad_link"))
        return
    user = update.effective_user
    name = (
        user.first_name if user else (update.effective_chat.title if update.effective_chat else "")
    )
    await update.effective_message.reply_text(translate(lang, "start.welcome", name=name or ""))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: every command with an example, in the chat's language."""
    lang = await chat_language(update, context)
    assert update.effective_message is not None
    text = translate(lang, "start.help", bot=context.bot.username or "paperboy_bot")
    await update.effective_message.reply_text(text)


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown command or plain text in a private chat: point to /help."""
    message = update.effective_message
    assert message is not None
    is_command = (message.text or "").startswith("/")
    key = "common.unknown_command" if is_command else "common.plain_text"
    await message.reply_text(translate(await chat_language(update, context), key))


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("start", start, filters=COMMAND_UPDATES),
    CommandHandler("help", help_command, filters=COMMAND_UPDATES),
]
# Registered by bot.app after every module's handlers, so it only sees what nobody else took.
FALLBACK: BaseHandler[Any, Any, Any] = MessageHandler(
    filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT, unknown
)
