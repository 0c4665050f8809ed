"""The send scheduler keeps every limit at once, driven by a fake clock."""

from __future__ import annotations

from bot.delivery.ratelimit import Limits, RateScheduler


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _send_all(scheduler: RateScheduler, clock: FakeClock, chats: list[int]) -> list[float]:
    """Book a slot for each chat in turn, advancing the clock to each slot like the engine does."""
    moments = []
    for chat in chats:
        clock.now = max(clock.now, scheduler.ready_at(chat))
        moment = scheduler.reserve(chat)
        clock.now = max(clock.now, moment)
        moments.append(moment)
    return moments


def test_overall_rate_is_paced_evenly() -> None:
    """Sixty different chats take two seconds at 30 messages/s, never more than 30 in any second."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(), clock)
    moments = _send_all(scheduler, clock, list(range(1, 61)))
    assert abs(moments[-1] - 59 / 30) < 1e-3
    for start in moments:
        assert sum(start <= m < start + 1 for m in moments) <= 30


def test_one_message_per_second_per_chat() -> None:
    """Three messages to one private chat are at least a second apart."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(), clock)
    moments = _send_all(scheduler, clock, [7, 7, 7])
    assert moments == [0.0, 1.0, 2.0]
    assert scheduler.delay(7) == 1.0


def test_group_twenty_per_minute() -> None:
    """A group's 21st message in a minute waits until the first leaves the window."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(), clock)
    moments = _send_all(scheduler, clock, [-100] * 25)
    for start in moments:
        assert sum(start <= m < start + 60 for m in moments) <= 20
    assert moments[20] == 60.0


def test_retry_after_pauses_only_that_chat() -> None:
    """A RetryAfter for one chat delays it but not the others."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(), clock)
    assert scheduler.retry_after(5, 10) is False
    assert scheduler.ready_at(5) == 10.0
    assert scheduler.ready_at(6) == 0.0


def test_retry_after_from_many_chats_pauses_everything() -> None:
    """Three chats told to wait within a second means the overall limit was hit: all pause."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(), clock)
    scheduler.retry_after(1, 2)
    clock.now = 0.5
    scheduler.retry_after(2, 3)
    assert scheduler.ready_at(99) == 0.5
    assert scheduler.retry_after(3, 4) is True
    assert scheduler.ready_at(99) == 4.5


def test_paid_broadcast_and_unlimited_rates() -> None:
    """Paid broadcast allows 1,000/s overall; unlimited books every send immediately."""
    clock = FakeClock()
    paid = RateScheduler(Limits.paid_broadcast(), clock)
    assert abs(_send_all(paid, clock, list(range(1, 1001)))[-1] - 0.999) < 1e-3
    clock.now = 0.0
    free = RateScheduler(Limits.unlimited(), clock)
    assert set(_send_all(free, clock, [1, 1, -1, -1] * 10)) == {0.0}


def test_forget_idle_drops_old_chats() -> None:
    """Chats not sent to for longer than every window are forgotten, keeping memory bounded."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(), clock)
    _send_all(scheduler, clock, [1, -2])
    clock.now = 61.0
    assert scheduler.forget_idle() == 2
    assert scheduler.tracked() == 0


def test_window_holds_calls_bunched_by_lag() -> None:
    """Calls that really start bunched (after lag) are held so no second sees more than 30."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(window_margin=0.05), clock)
    for _ in range(30):
        assert scheduler.window_delay() == 0.0
        scheduler.note_call()
    assert abs(scheduler.window_delay() - 1.05) < 1e-9
    clock.now = 1.05
    assert scheduler.window_delay() == 0.0


def test_booked_calls_hold_their_place_until_they_start() -> None:
    """A call booked before a slow commit counts as starting now, so none can overtake it."""
    clock = FakeClock()
    scheduler = RateScheduler(Limits(global_rate=2.0, window_margin=0.0), clock)
    scheduler.book_call()
    scheduler.book_call()
    assert scheduler.window_delay() > 0  # both places taken though neither call started yet
    clock.now = 0.5  # the commit took half a second
    scheduler.note_call(booked=True)
    scheduler.cancel_call()  # the other one never started: its place is free again
    assert scheduler.window_delay() == 0.0
    scheduler.note_call()
    assert abs(scheduler.window_delay() - 1.0) < 1e-9


def test_only_groups_keep_a_window_of_sends() -> None:
    """A private chat keeps no deque of recent sends (only groups have a per-minute window), so
    a broadcast to 10,000 private chats costs no deque each; a group's window still holds."""
    clock = FakeClock()
    limits = Limits(global_rate=1000, chat_interval=0.0, group_count=2, group_window=60.0)
    scheduler = RateScheduler(limits, clock)
    _send_all(scheduler, clock, [1, 2, 3])
    assert all(scheduler._chats[chat].recent is None for chat in (1, 2, 3))
    moments = _send_all(scheduler, clock, [-5, -5, -5])
    assert moments[2] - moments[0] >= 60.0
    assert list(scheduler._chats[-5].recent or ()) == moments
