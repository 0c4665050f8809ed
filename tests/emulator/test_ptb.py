"""python-telegram-bot 22, unchanged, against the emulator: Bot calls and a polling Application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator import Emulator
from tests.emulator.conftest import TOKEN

AnyApp = Application[Any, Any, Any, Any, Any, Any]


async def test_bot_sends_edits_and_reads_commands(bot: telegram.Bot, emulator: Emulator) -> None:
    """getMe, HTML send, edit and setMyCommands round-trip through PTB's own parsing."""
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 123456
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("more", callback_data="m")]])
    sent = await bot.send_message(
        10,
        "<b>Top</b> &amp; <a href='https://arxiv.org'>paper</a>",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )
    assert sent.text == "Top & paper"
    assert sent.entities[1].url == "https://arxiv.org"
    edited = await bot.edit_message_text(
        "<i>v2</i>", chat_id=10, message_id=sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, telegram.Message)
    assert edited.text == "v2"
    await bot.set_my_commands([("paper", "Show a paper")], language_code="en")
    assert (await bot.get_my_commands(language_code="en"))[0].command == "paper"
    assert [e.kind for e in emulator.chat_log(10)] == ["message", "edit"]
    assert (
        emulator.messages(10)[0].reply_markup is None
    )  # an edit without markup drops the keyboard


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hello answers with a button."""
    assert update.effective_message is not None
    button = InlineKeyboardButton("again", callback_data="again")
    await update.effective_message.reply_html(
        f"hello <b>{context.args[0] if context.args else 'you'}</b>",
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press is answered and the message edited in place."""
    query = update.callback_query
    assert query is not None
    await query.answer("done")
    await query.edit_message_text("pressed")


@pytest.fixture
async def polling_app(emulator: Emulator) -> AsyncIterator[AnyApp]:
    """A PTB Application long-polling the emulator (long-poll timeout 10 s)."""
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("hello", reply))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def test_application_long_polling_replies(polling_app: AnyApp, emulator: Emulator) -> None:
    """An injected /hello reaches the Application by long polling; its reply and press land."""
    emulator.add_user(21, first_name="Min", language_code="ko")
    emulator.send_text(chat_id=21, user_id=21, text="/hello paperboy")
    (event,) = await emulator.wait_for_events(21, 1)
    assert event.text == "hello paperboy"
    assert event.entities == ({"type": "bold", "offset": 6, "length": 8},)
    emulator.press_button(chat_id=21, user_id=21, message_id=event.message_id, data="again")
    log = await emulator.wait_for_events(21, 3)
    assert [(e.kind, e.text) for e in log[1:]] == [("answer", "done"), ("edit", "pressed")]


async def test_group_command_with_bot_mention(polling_app: AnyApp, emulator: Emulator) -> None:
    """A /hello@bot command in a group is handled and answered in the group."""
    emulator.add_chat(-4000, type="group", title="Readers")
    emulator.send_text(chat_id=-4000, user_id=22, text="/hello@paperboy_emulated_bot")
    (event,) = await emulator.wait_for_events(-4000, 1)
    assert event.text == "hello you"
