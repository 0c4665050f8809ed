"""Delivery outlives its failures: database errors in the loop, a dead engine task, a Telegram
outage at delivery time, and an update after a digest that never arrived."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

import bot.delivery.engine
from bot.clock import DeliveryRuntime
from bot.delivery.dispatch import SchedulePolicy
from bot.delivery.engine import DeliveryEngine, RetryPolicy
from bot.delivery.ratelimit import Limits, RateScheduler
from bot.services import Services
from storage.deliveries import (
    add_delivery,
    chat_deliveries,
    claim_due,
    new_delivery,
    next_due_at,
)
from tests.delivery.conftest import Outbox
from tests.delivery.daykit import Clock, Day, digest_text, open_day, sample_blocks, seoul, title_of

D24 = dt.date(2025, 1, 24)


class Flaky:
    """A storage call that raises "database is locked" `failures` times, then works."""

    def __init__(self, real: Callable[..., Any], failures: int | None) -> None:
        self.real, self.failures, self.failed = real, failures, 0
        self.failing = asyncio.Event()  # set at the first failure
        self.exhausted = asyncio.Event()  # set at the last one

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Fail while failures remain (for ever with None), then call the real function."""
        if self.failures is None or self.failed < self.failures:
            self.failed += 1
            self.failing.set()
            if self.failed == self.failures:
                self.exhausted.set()
            raise OperationalError("UPDATE deliveries", {}, sqlite3.OperationalError("locked"))
        return await self.real(*args, **kwargs)


class VirtualTime(DeliveryEngine):
    """An engine whose idle waits move the fake clock to the next due row instead of sleeping,
    so hours of retries pass in moments; `on_jump` runs after each move."""

    def __init__(self, fake: Clock, on_jump: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(clock=fake, **kwargs)
        self.fake, self.on_jump = fake, on_jump

    async def _pause(self, claimed: int) -> None:
        if claimed or self._active:
            await super()._pause(claimed)
            return
        async with self.sessions() as session:
            due = await next_due_at(session)
        if due is not None and due > self.fake.now:
            self.fake.at(due)
        self.on_jump()


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """The scheduled-day kit at 2025-01-24 07:00 in Seoul."""
    async with open_day(database_url, tmp_path) as kit:
        yield kit


async def _queue(day: Day, chat_id: int, text: str) -> None:
    """Queue a one-message digest row for the chat, due now."""
    async with day.sessions.begin() as session:
        row = new_delivery(
            chat_id=chat_id,
            digest_date=D24,
            kind="digest",
            messages=[text],
            arxiv_ids=[],
            known_ids=[],
            now=day.clock(),
        )
        await add_delivery(session, row=row)


def _engine(day: Day, **kwargs: Any) -> DeliveryEngine:
    """An engine on the day kit's clock and bot."""
    return DeliveryEngine(
        bot=day.bot,
        sessions=day.sessions,
        scheduler=RateScheduler(Limits.unlimited(), time.monotonic),
        clock=day.clock,
        rng=random.Random(5),
        **kwargs,
    )


def _virtual(day: Day, on_jump: Callable[[], None], policy: RetryPolicy) -> VirtualTime:
    """An engine on the day kit whose idle waits move its clock forward."""
    return VirtualTime(
        day.clock,
        on_jump,
        bot=day.bot,
        sessions=day.sessions,
        scheduler=RateScheduler(Limits.unlimited(), time.monotonic),
        policy=policy,
        rng=random.Random(1),
    )


# the loop and its task


async def test_loop_survives_database_locked_while_claiming(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims failing with "database is locked" pause the loop; it then delivers as usual."""
    await outbox.subscribe(11)
    await outbox.queue(11, ["after the lock"])
    claims = Flaky(claim_due, failures=3)
    monkeypatch.setattr(bot.delivery.engine, "claim_due", claims)
    engine = outbox.engine()
    engine.error_pause = 0.01
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop=stop))
    await outbox.emulator.wait_for(lambda: outbox.emulator.texts(11) == ["after the lock"])
    assert not task.done()
    assert (claims.failed, engine.stats.loop_errors) == (3, 3)
    stop.set()
    await task


async def test_loop_survives_errors_while_idle(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An idle engine whose look at the next due row fails keeps going and sends the next row."""
    await outbox.subscribe(12)
    dues = Flaky(next_due_at, failures=2)
    monkeypatch.setattr(bot.delivery.engine, "next_due_at", dues)
    engine = outbox.engine()
    engine.error_pause = 0.01
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop=stop))
    await asyncio.wait_for(dues.exhausted.wait(), 5)
    await outbox.queue(12, ["still here"])
    engine.wake()
    await outbox.emulator.wait_for(lambda: outbox.emulator.texts(12) == ["still here"])
    assert not task.done()
    assert engine.stats.loop_errors == 2
    stop.set()
    await task


async def test_stop_ends_the_pause_after_an_error(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutting down while the loop waits out a database error ends it at once."""
    claims = Flaky(claim_due, failures=None)
    monkeypatch.setattr(bot.delivery.engine, "claim_due", claims)
    engine = outbox.engine()
    engine.error_pause = 30.0
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop=stop))
    await asyncio.wait_for(claims.failing.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert claims.failed == 1


async def test_runtime_restarts_an_engine_task_that_ended(day: Day) -> None:
    """An engine task that ends while the bot runs is restarted, and delivery goes on."""
    runtime = DeliveryRuntime(
        Services(day.settings, day.sessions, day.clock), [], SchedulePolicy(), restart_pause=0.01
    )
    await day.subscribe(21)
    runtime.start(_engine(day))
    first = runtime.task
    assert first is not None
    first.cancel()
    await _queue(day, 21, "after the restart")
    await day.emulator.wait_for(lambda: day.emulator.texts(21) == ["after the restart"])
    assert first.cancelled()
    assert runtime.task is not first
    assert runtime.task is not None
    assert not runtime.task.done()
    assert runtime.restarts == 1
    await runtime.shutdown()
    assert runtime.task is None
    assert runtime.restarts == 1  # a requested stop is not restarted


# a Telegram outage at delivery time


async def test_hour_long_outage_delays_the_digest_instead_of_losing_it(day: Day) -> None:
    """Telegram answers 502 from 09:00 to 10:00: every chat gets its digest soon after 10:00."""
    chats = (31, 32, 33)
    for chat_id in chats:
        await day.subscribe(chat_id)
    day.write(D24, digest_text(D24, sample_blocks()[:3]))
    await day.poll()
    day.clock.at(seoul(24, 9))
    assert (await day.dispatch()).digests == 3
    day.emulator.add_fault("server_error", count=None, status=502)
    back = seoul(24, 10)

    def heal() -> None:
        if day.clock.now >= back:
            day.emulator.clear_faults()

    await _virtual(day, heal, RetryPolicy()).drain()
    async with day.sessions() as session:
        for chat_id in chats:
            [row] = await chat_deliveries(session, chat_id=chat_id)
            assert row.state == "sent"
            assert row.attempts > 6  # more tries than the old limit of 6
            assert row.sent_at is not None
            assert back <= row.sent_at <= back + dt.timedelta(minutes=7, seconds=30)
    assert all("2025-01-24" in day.emulator.texts(chat_id)[0] for chat_id in chats)


async def test_transient_failures_give_up_after_the_window(day: Day) -> None:
    """Telegram down for good: the row is retried about every 5 minutes and fails after 6 h."""
    await day.subscribe(41)
    day.clock.at(seoul(24, 9))
    await _queue(day, 41, "never")
    day.emulator.add_fault("server_error", chat_id=41, count=None, status=502)
    await _virtual(day, lambda: None, RetryPolicy()).drain()
    async with day.sessions() as session:
        [row] = await chat_deliveries(session, chat_id=41)
    assert row.state == "failed"
    assert "Bad Gateway" in (row.last_error or "")
    waited = row.updated_at - row.created_at
    assert dt.timedelta(hours=6) <= waited <= dt.timedelta(hours=6, minutes=7, seconds=30)
    assert 50 <= row.attempts <= 150  # about one try per 5 minutes once the backoff is capped


def test_policy_gives_up_by_time_with_a_floor_of_tries() -> None:
    """Time decides, but a row due long ago (an admin's /resend) still gets a few tries."""
    policy = RetryPolicy()
    assert not policy.exhausted(60, dt.timedelta(hours=5, minutes=59))
    assert policy.exhausted(60, dt.timedelta(hours=6))
    assert not policy.exhausted(3, dt.timedelta(days=3))
    assert policy.exhausted(6, dt.timedelta(days=3))
    assert RetryPolicy(max_attempts=3).exhausted(3, dt.timedelta(0))
    assert max(policy.backoff(n, random.Random(n)) for n in range(1, 200)) <= 450


# an update after a digest that failed


async def test_update_after_a_failed_digest_carries_its_papers(day: Day) -> None:
    """The digest failed to arrive; when the day grows, the update brings every paper."""
    blocks = sample_blocks()
    first, second = blocks[:3], blocks[3:5]
    await day.subscribe(51)
    day.write(D24, digest_text(D24, first))
    await day.poll()
    day.clock.at(seoul(24, 9))
    await day.dispatch()
    day.emulator.add_fault("server_error", chat_id=51, count=None, status=502)
    await _virtual(day, lambda: None, RetryPolicy(max_attempts=3)).drain()
    day.emulator.clear_faults()
    assert day.emulator.texts(51) == []
    day.clock.at(seoul(24, 10))
    day.write(D24, digest_text(D24, first) + "\n" + digest_text(D24, second))
    await day.poll()
    day.clock.at(seoul(24, 10, 31))
    assert (await day.dispatch()).updates == 1
    await day.deliver()
    received = "\n".join(day.emulator.texts(51))
    assert all(title_of(block) in received for block in first + second)
    async with day.sessions() as session:
        rows = await chat_deliveries(session, chat_id=51)
    assert [(row.kind, row.state) for row in rows] == [("digest", "failed"), ("update", "sent")]
