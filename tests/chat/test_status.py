"""/status end to end: subscription, settings, the last delivery (none until delivery lands)."""

from __future__ import annotations

from handlers.status import last_delivery_lookup, local_time
from tests.chat.conftest import ChatDriver


async def test_status_of_an_unknown_chat(chat: ChatDriver) -> None:
    """A chat the bot has never stored is not subscribed and has no delivery."""
    text = (await chat.send("/status"))[0].text
    assert "Not subscribed" in text
    assert "No digest delivered" in text


async def test_status_shows_subscription_and_settings(chat: ChatDriver) -> None:
    """After subscribing and changing settings, /status lists them in the chat's time zone."""
    await chat.send("/subscribe")
    await chat.send("/settings include diffusion")
    text = (await chat.send("/status"))[0].text
    assert f"Subscribed since {local_time(chat.clock.now, 'Asia/Seoul')}" in text
    assert "Include: diffusion" in text
    assert "Delivery: 09:00 (Asia/Seoul)" in text
    assert "/settings" in text
    if last_delivery_lookup() is None:
        assert "No digest delivered" in text


async def test_status_in_korean_and_in_groups(chat: ChatDriver) -> None:
    """Anyone in a group may ask; the reply follows the user's language."""
    text = (await chat.send("/status", user=4001, chat=-100_4001, language_code="ko"))[0].text
    assert "구독하지 않음" in text


def test_local_time_uses_the_chat_zone() -> None:
    """UTC moments are shown in the chat's time zone."""
    import datetime as dt

    moment = dt.datetime(2025, 1, 1, 0, 30, tzinfo=dt.UTC)
    assert local_time(moment, "Asia/Seoul") == "2025-01-01 09:30"
