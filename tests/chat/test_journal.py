"""End-to-end tests of the journal-club /poll (sendPoll, votes, stopPoll) through the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from bot.render.poll import OPTION_LIMIT
from tests.chat.conftest import ChatDriver, texts

GROUP = -100_555


def _poll_message(chat: ChatDriver, chat_id: int) -> Any:
    """The bot's newest poll message in a chat (as the emulator holds it)."""
    return [m for m in chat.emulator.messages(chat_id) if m.poll is not None][-1]


async def test_poll_links_then_native_poll(chat: ChatDriver) -> None:
    """/poll sends the paper links, then a poll whose options are those papers, clipped."""
    replies = await chat.send("/poll", chat=GROUP)
    assert "Journal club" in replies[0].text
    assert "2501.1" in str(chat.emulator.chat_log(GROUP)[0].entities)  # links to the papers
    message = _poll_message(chat, GROUP)
    options = [option["text"] for option in message.poll["options"]]
    assert 2 <= len(options) <= 10
    assert all(1 <= len(text) <= OPTION_LIMIT for text in options)
    assert options[0].startswith("1. ")
    assert "2025-01-30" in message.poll["question"]
    assert message.message_id == replies[0].message_id + 1


async def test_poll_close_names_the_winner(chat: ChatDriver) -> None:
    """Votes, then /poll close: the poll stops and the most voted paper is named; closing twice
    says there is no open poll."""
    await chat.send("/poll", chat=GROUP)
    message = _poll_message(chat, GROUP)
    for user, option in ((2001, 2), (2002, 2), (2003, 0)):
        await chat.processed(
            chat.emulator.vote_poll(
                chat_id=GROUP, user_id=user, message_id=message.message_id, options=[option]
            )
        )
    winner = message.poll["options"][2]["text"].split(". ", 1)[1][:20]
    text = texts(await chat.send("/poll close", chat=GROUP))
    assert "2 of 3 votes" in text
    assert winner in text
    assert message.poll["is_closed"]
    assert "no open journal-club poll" in texts(await chat.send("/poll close", chat=GROUP))


async def test_poll_close_tie_and_nobody_in_korean(chat: ChatDriver) -> None:
    """A tie lists every paper tied; a poll nobody answered closes with that said, in Korean."""
    await chat.send("/poll", chat=GROUP, language_code="ko")
    message = _poll_message(chat, GROUP)
    for user, option in ((2001, 0), (2002, 1)):
        await chat.processed(
            chat.emulator.vote_poll(
                chat_id=GROUP, user_id=user, message_id=message.message_id, options=[option]
            )
        )
    text = texts(await chat.send("/poll 마감", chat=GROUP, language_code="ko"))
    assert "동점" in text
    assert "1. " in text
    assert "2. " in text
    await chat.send("/poll", chat=GROUP, language_code="ko")
    text = texts(await chat.send("/poll close", chat=GROUP, language_code="ko"))
    assert "아무도 투표하지 않았어요" in text


@pytest.mark.parametrize(
    ("command", "chat_id", "language", "expected"),
    [
        ("/poll", None, "en", "Journal-club polls are for groups"),
        ("/poll", None, "ko", "그룹에서만"),
        ("/poll close", GROUP, "en", "no open journal-club poll"),
        ("/poll banana", GROUP, "en", "/poll close"),
        ("/poll " + "x" * 5000, GROUP, "ko", "마감해 결과를"),
    ],
)
async def test_poll_bad_input(
    chat: ChatDriver, command: str, chat_id: int | None, language: str, expected: str
) -> None:
    """/poll in a private chat, closing without a poll and unknown arguments get clear replies."""
    assert expected in texts(await chat.send(command, chat=chat_id, language_code=language))
