"""/settings cadence (daily, weekly, both) and a group's journal-club poll with the digest."""

from __future__ import annotations

import pytest

from storage import chats
from tests.chat.conftest import ChatDriver, Reply

GROUP = -100_432
ADMIN = 3101


async def _row(chat: ChatDriver, chat_id: int = 1001) -> chats.Chat:
    """The chat's stored row (it must exist)."""
    async with chat.services.sessions() as session:
        row = await chats.get_chat(session, chat_id=chat_id)
    assert row is not None
    return row


def _edit(events: list[Reply]) -> Reply:
    """The one edit among the events of a press."""
    (edit,) = [event for event in events if event.kind == "edit"]
    return edit


def _data(reply: Reply, text: str) -> str:
    """The callback data of the button labelled `text`."""
    data = next(b.callback_data for b in reply.buttons if b.text == text)
    assert data is not None
    return data


async def test_cadence_menu_and_status(chat: ChatDriver) -> None:
    """📆 Cadence offers daily/weekly/both (no poll switch in a private chat); /status shows it."""
    menu = (await chat.send("/settings"))[0]
    assert "Cadence: daily" in menu.text
    view = _edit(await chat.press(menu, _data(menu, "📆 Cadence")))
    assert [b.text for b in view.buttons][:3] == ["Daily", "Weekly", "Both"]
    assert not any("Poll" in b.text for b in view.buttons)
    chosen = _edit(await chat.press(view, _data(view, "Weekly")))
    assert "Cadence set to weekly" in chosen.text
    assert (await _row(chat)).cadence == "weekly"
    status = (await chat.send("/status"))[0].text
    assert "Cadence: weekly (Mondays: last week's top papers)" in status


@pytest.mark.parametrize(
    ("argument", "language", "expected", "reply"),
    [
        ("cadence both", "en", "both", "daily and weekly"),
        ("주기 매주", "ko", "weekly", "주기를 매주"),
        ("cadence Daily", "en", "daily", "Cadence set to daily"),
    ],
)
async def test_typed_cadence(
    chat: ChatDriver, argument: str, language: str, expected: str, reply: str
) -> None:
    """`/settings cadence …` in English or Korean words."""
    replies = await chat.send(f"/settings {argument}", language_code=language)
    assert reply in replies[0].text
    assert (await _row(chat)).cadence == expected


@pytest.mark.parametrize(
    ("argument", "hint"),
    [
        ("cadence monthly", "daily, weekly or both"),
        ("cadence " + "x" * 5000, "/settings cadence weekly"),
        ("poll on", "for groups"),
    ],
)
async def test_bad_cadence_and_private_poll(chat: ChatDriver, argument: str, hint: str) -> None:
    """A cadence that is not one, or the poll setting in a private chat, gets a clear reply."""
    replies = await chat.send(f"/settings {argument}")
    assert len(replies) == 1
    assert hint in replies[0].text
    row = await _row(chat)
    assert (row.cadence, row.journal_poll) == ("daily", False)


async def test_group_poll_switch(chat: ChatDriver) -> None:
    """A group's admin turns the poll on by typing (in Korean) and off with the menu's switch;
    a forged switch in a private chat is refused as out of date."""
    chat.emulator.add_chat(GROUP, type="supergroup", administrators=[ADMIN])
    typed = await chat.send("/settings 투표 켜기", user=ADMIN, chat=GROUP, language_code="ko")
    assert "저널 클럽 투표를 보낼게요" in typed[0].text
    assert "다이제스트와 함께 저널 클럽 투표: 켜짐" in typed[0].text
    assert (await _row(chat, GROUP)).journal_poll is True
    menu = (await chat.send("/settings", user=ADMIN, chat=GROUP))[0]
    view = _edit(await chat.press(menu, "st:c", user=ADMIN))
    off = _edit(await chat.press(view, _data(view, "🗳 Poll with the digest: turn off"), user=ADMIN))
    assert "Journal-club poll with the digest: off" in off.text
    assert (await _row(chat, GROUP)).journal_poll is False
    private = (await chat.send("/settings"))[0]
    for forged in ("st:p:on", "st:p", "st:p:maybe"):
        events = await chat.press(private, forged)
        assert [event.kind for event in events] == ["answer"]
    assert (await _row(chat)).journal_poll is False
