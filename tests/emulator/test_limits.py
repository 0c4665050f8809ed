"""Telegram-like flood limits, driven by a manual clock instead of sleeping."""

from __future__ import annotations

import httpx

from bot.emulator import Emulator, RateLimiter, Stats
from tests.emulator.conftest import TOKEN, ManualClock


def send(limiter: RateLimiter, chat_id: int) -> tuple[str, int] | None:
    """Check, and record when allowed, like the emulator does for one message."""
    refused = limiter.check(chat_id)
    if refused is None:
        limiter.record(chat_id)
    return refused


def test_thirty_per_second_overall(clock: ManualClock) -> None:
    """The 31st message within one second is refused; a second later it passes."""
    limiter = RateLimiter(clock)
    assert all(send(limiter, chat) is None for chat in range(1, 31))
    assert send(limiter, 99) == ("overall", 1)
    clock.advance(1.0)
    assert send(limiter, 99) is None


def test_one_per_second_per_chat_after_a_short_burst(clock: ManualClock) -> None:
    """A chat may burst `chat_burst` messages, then gets one per second."""
    limiter = RateLimiter(clock, chat_burst=3)
    assert [send(limiter, 5) for _ in range(3)] == [None, None, None]
    assert send(limiter, 5) == ("chat", 1)
    clock.advance(0.5)
    assert send(limiter, 5) == ("chat", 1)
    clock.advance(0.5)
    assert send(limiter, 5) is None


def test_twenty_per_minute_per_group(clock: ManualClock) -> None:
    """A group gets 20 messages per sliding minute; retry_after says when the oldest expires."""
    limiter = RateLimiter(clock)
    for _ in range(20):
        assert send(limiter, -100) is None
        clock.advance(1.0)
    assert send(limiter, -100) == ("group", 40)
    clock.advance(40.0)
    assert send(limiter, -100) is None


def test_stats_windows_and_duplicates() -> None:
    """Counters find the busiest minute of a group and texts sent twice to one chat."""
    stats = Stats()
    for n in range(25):
        stats.record(-1, f"m{n}", float(n))
    stats.record(7, "same", 0.0)
    stats.record(7, "same", 100.0)
    assert stats.max_in_window(-1, 60.0) == 25
    assert stats.groups_over(20) == {-1: 25}
    assert stats.duplicates() == [(7, "same", 2)]


async def test_emulator_answers_429_when_limits_are_on(clock: ManualClock) -> None:
    """With limits on, a flood gets 429 with retry_after, counted; off by default."""
    emu = Emulator(token=TOKEN, clock=clock, limits=True, chat_burst=1)
    async with emu.running(port=0), httpx.AsyncClient(base_url=emu.base_url + TOKEN) as http:
        assert (await http.post("/sendMessage", json={"chat_id": 1, "text": "a"})).is_success
        refused = await http.post("/sendMessage", json={"chat_id": 1, "text": "b"})
        assert refused.status_code == 429
        assert refused.json()["parameters"] == {"retry_after": 1}
        clock.advance(1.0)
        assert (await http.post("/sendMessage", json={"chat_id": 1, "text": "b"})).is_success
        emu.set_limits(False)
        assert (await http.post("/sendMessage", json={"chat_id": 1, "text": "c"})).is_success
    assert emu.stats.accepted == 3
    assert emu.stats.too_many_requests == 1
    assert emu.stats.violations == {"chat": 1}
    assert emu.stats.sent_at[1] == [1000.0, 1001.0, 1001.0]
