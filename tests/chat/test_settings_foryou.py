"""The "✨ For you" switch of /settings, by button and by argument, in en and ko."""

from __future__ import annotations

from storage import chats
from tests.chat.conftest import ChatDriver, Reply, texts


async def _for_you(chat: ChatDriver, chat_id: int = 1001) -> bool:
    """The chat's stored `for_you` setting."""
    async with chat.services.sessions() as session:
        row = await chats.get_chat(session, chat_id=chat_id)
    assert row is not None
    return row.for_you


def _edit(events: list[Reply]) -> Reply:
    """The one edit among the events of a press."""
    (edit,) = [event for event in events if event.kind == "edit"]
    return edit


async def test_switch_by_button_in_english(chat: ChatDriver) -> None:
    """The cadence view's switch turns the section off and on again, and the menu says so."""
    menu = (await chat.send("/settings"))[-1]
    assert "✨ For you in the digest: on" in menu.text
    cadence = _edit(await chat.press(menu, "st:c"))
    off = _edit(await chat.press(cadence, "st:f:off"))
    assert not await _for_you(chat)
    assert "No more ✨ For you" in off.text
    assert "✨ For you in the digest: off" in off.text
    assert any(b.callback_data == "st:f:on" for b in off.buttons)
    _edit(await chat.press(off, "st:f:on"))
    assert await _for_you(chat)


async def test_switch_by_argument_in_korean(chat: ChatDriver) -> None:
    """`/settings 추천 끄기` turns it off; a bad value gets the usage line."""
    done = texts(await chat.send("/settings 추천 끄기", language_code="ko"))
    assert "맞춤 추천을 더 이상" in done
    assert not await _for_you(chat)
    assert "켜짐" not in texts(await chat.send("/settings foryou maybe", language_code="ko"))
    assert "/settings foryou on" in texts(await chat.send("/settings foryou maybe"))
    assert "3" in texts(await chat.send("/settings foryou on"))
    assert await _for_you(chat)
