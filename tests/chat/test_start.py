"""End-to-end tests of /start (with deep links), /help and the private-chat fallback."""

from __future__ import annotations

import pytest

from bot.app import COMMANDS as APP_COMMANDS
from handlers.start import paper_from_payload
from storage import chats
from tests.chat.conftest import ChatDriver, texts

COMMANDS = ("/subscribe", "/unsubscribe", "/settings", "/today", "/digest", "/paper", "/author")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("paper_2401_00908", "2401.00908"),
        ("paper_2401-00908v2", "2401.00908"),
        ("paper_2401.00908", "2401.00908"),
        ("paper_", None),
        ("paper_abc", None),
        ("sub", None),
    ],
)
def test_paper_from_payload(payload: str, expected: str | None) -> None:
    """Deep-link payloads name a paper with `_` or `-` standing for the dot."""
    assert paper_from_payload(payload) == expected


async def test_start_welcomes_in_the_users_language(chat: ChatDriver) -> None:
    """/start greets by name, in English or Korean after the user's Telegram language."""
    english = await chat.send("/start")
    assert len(english) == 1
    assert "Hello User1001" in english[0].text
    korean = await chat.send("/start", user=1002, language_code="ko")
    assert "안녕하세요" in korean[0].text


async def test_start_paper_deep_link_shows_the_paper(chat: ChatDriver) -> None:
    """`/start paper_2401_00908` opens that paper."""
    text = texts(await chat.send("/start paper_2401_00908"))
    assert "DocLLM" in text


async def test_start_unknown_paper_and_broken_links_get_one_reply(chat: ChatDriver) -> None:
    """An unknown paper or a broken payload each get one helpful reply."""
    assert len(await chat.send("/start paper_9999_99999")) == 1
    broken = await chat.send("/start <b>&" + "x" * 5000)
    assert len(broken) == 1
    assert "/help" in broken[0].text


async def test_start_sub_subscribes(chat: ChatDriver) -> None:
    """`/start sub` subscribes the chat."""
    replies = await chat.send("/start sub")
    assert "Subscribed" in replies[0].text
    async with chat.services.sessions() as session:
        row = await chats.get_chat(session, chat_id=1001)
    assert row is not None
    assert row.subscribed


@pytest.mark.parametrize("language", ["en", "ko"])
async def test_help_lists_every_command_with_an_example(chat: ChatDriver, language: str) -> None:
    """/help names every command the bot registers, an example for each, and inline mode with
    the bot's name."""
    text = (await chat.send("/help", language_code=language))[0].text
    for command in (*COMMANDS, *(f"/{name}" for name in APP_COMMANDS if name != "start")):
        assert command in text
    assert "/bibtex 2401.00908" in text
    assert "/settings foryou off" in text
    assert "/paper 2401.00908" in text
    assert "/digest 2024-01-03" in text
    assert "@paperboy_emulated_bot diffusion" in text
    assert ("Inline mode" in text) == (language == "en")


async def test_unknown_command_and_plain_text_in_private_get_a_hint(chat: ChatDriver) -> None:
    """Nothing goes unanswered in a private chat: unknown commands and text point to /help."""
    assert "/help" in (await chat.send("/frobnicate"))[0].text
    assert "/help" in (await chat.send("hello 🙂 <b>"))[0].text


async def test_unknown_command_in_a_group_is_ignored(chat: ChatDriver) -> None:
    """In groups, commands meant for other bots are not answered."""
    assert await chat.send("/frobnicate", chat=-100500) == []
