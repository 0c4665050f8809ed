"""/status end to end: subscription, settings, the last delivery (none until delivery lands)."""

from __future__ import annotations

from handlers.status import last_delivery_lookup, local_time
from tests.chat.conftest import ChatDriver, running_bot


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


async def test_status_says_where_korean_summaries_come_from(
    chat: ChatDriver, seeded_database_url: str
) -> None:
    """Without a summarizer /status says what chats get instead; with one, it names the model."""
    text = (await chat.send("/status"))[0].text
    assert "only from daily_papers_ko" in text
    assert "English summary" in text
    async with running_bot(
        seeded_database_url,
        summary_api_base_url="http://127.0.0.1:9/v1",
        summary_model="qwen2.5-7b",
    ) as other:
        korean = (await other.send("/status", language_code="ko"))[0].text
    assert "qwen2.5-7b 모델로 만든 요약" in korean
    # Korean searches are expanded by the same model, unless the operator turned that off.
    assert "qwen2.5-7b 모델이 알려 준 영어 표현" in korean
    assert "Korean searches" not in text
    async with running_bot(
        seeded_database_url,
        summary_api_base_url="http://127.0.0.1:9/v1",
        summary_model="qwen2.5-7b",
        search_expansion=False,
    ) as other:
        english = (await other.send("/status"))[0].text
    assert "with qwen2.5-7b" in english
    assert "Korean searches" not in english
