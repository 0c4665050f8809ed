"""When a chat is due (pure functions), and the start-up wiring: engine task plus JobQueue jobs."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_application
from bot.clock import delivery_hooks, runtime_of
from bot.content.sources import parse_sources
from bot.delivery.dispatch import ChatSchedule, SchedulePolicy, due_moment, plan_digests
from bot.services import Services
from storage.papers import digest_for_date
from tests.delivery.daykit import Day, digest_text, open_day, sample_blocks, seoul

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
EVERY_DAY = frozenset(range(1, 8))
POLICY = SchedulePolicy()


def schedule(
    weekdays: frozenset[int] = EVERY_DAY, since: dt.datetime | None = None
) -> ChatSchedule:
    """A 09:00 Seoul chat subscribed long ago."""
    return ChatSchedule(SEOUL, dt.time(9, 0), weekdays, since or seoul(1, 0))


def test_due_at_the_next_window_or_at_once_inside_it() -> None:
    """Ready before 09:00 → due at 09:00; ready inside today's window → due at once."""
    assert due_moment(schedule(), seoul(24, 7)) == seoul(24, 9)
    assert due_moment(schedule(), seoul(24, 11)) == seoul(24, 11)
    assert due_moment(schedule(frozenset({1})), seoul(24, 7)) == seoul(27, 9)  # Fri → Mon
    assert due_moment(schedule(frozenset()), seoul(24, 7)) is None


def test_plan_marks_missed_days_late_and_skips_old_ones() -> None:
    """Missed digests within the catch-up window are late; older or undue ones are not sent."""
    days = [
        (dt.date(2025, 1, 19), seoul(19, 7)),
        (dt.date(2025, 1, 23), seoul(23, 7)),
        (dt.date(2025, 1, 24), seoul(24, 7)),
    ]
    plan = plan_digests(schedule(), days, set(), seoul(24, 9, 1), POLICY)
    assert [(p.date.day, p.late) for p in plan] == [(23, True), (24, False)]
    assert plan_digests(schedule(), days, set(), seoul(24, 8, 59), POLICY)[-1].date.day == 23
    delivered = {dt.date(2025, 1, 23)}
    assert [
        p.date.day for p in plan_digests(schedule(), days, delivered, seoul(24, 9), POLICY)
    ] == [24]


def test_plan_ignores_backfills_and_days_before_subscribing() -> None:
    """An old digest ingested today is never broadcast; nothing due before subscribing is sent."""
    backfill = [(dt.date(2024, 10, 18), seoul(24, 7))]
    assert plan_digests(schedule(), backfill, set(), seoul(24, 10), POLICY) == []
    today = [(dt.date(2025, 1, 24), seoul(24, 7))]
    late_subscriber = schedule(since=seoul(24, 9, 30))
    assert plan_digests(late_subscriber, today, set(), seoul(24, 10), POLICY) == []
    assert plan_digests(schedule(), today, set(), seoul(24, 10), POLICY)[0].late


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """The scheduled-day kit."""
    async with open_day(database_url, tmp_path) as kit:
        yield kit


async def test_hooks_start_the_engine_and_register_the_jobs(day: Day) -> None:
    """The start-up hook starts the engine and both jobs; a tick delivers; shutdown is clean."""
    services = Services(day.settings, day.sessions, day.clock)
    application = build_application(day.settings, services=services, rate_limiter=None)
    await day.subscribe(701)
    day.write(dt.date(2025, 1, 24), digest_text(dt.date(2025, 1, 24), sample_blocks()[:2]))
    async with application:
        for hook in delivery_hooks(day.settings, services, live=False):
            await hook(application)
        await application.start()
        try:
            runtime = runtime_of(application)
            assert runtime.sources == parse_sources([str(day.folder)])
            assert runtime.engine is not None
            assert runtime.task is not None
            assert application.job_queue is not None
            names = {job.name for job in application.job_queue.jobs()}
            assert names == {"paperboy-poll", "paperboy-dispatch"}
            await runtime.poll()
            day.clock.at(seoul(24, 9))
            await runtime.dispatch()
            await day.emulator.wait_for(lambda: bool(day.emulator.texts(701)))
        finally:
            await application.stop()
            assert application.post_stop is not None
            await application.post_stop(application)
    assert runtime.task is None
    assert "2025-01-24" in day.emulator.texts(701)[0]


async def test_the_first_poll_runs_at_start_not_an_interval_later(day: Day) -> None:
    """Start-up polls the sources at once; the repeating poll job waits a whole interval."""
    services = Services(day.settings, day.sessions, day.clock)
    application = build_application(day.settings, services=services, rate_limiter=None)
    day.write(dt.date(2025, 1, 24), digest_text(dt.date(2025, 1, 24), sample_blocks()[:2]))
    async with application:
        for hook in delivery_hooks(day.settings, services, live=False, engine=False):
            await hook(application)
        await application.start()
        try:
            runtime = runtime_of(application)
            assert runtime.first_poll is not None
            await asyncio.wait_for(asyncio.shield(runtime.first_poll), timeout=30)
            assert application.job_queue is not None
            (job,) = application.job_queue.get_jobs_by_name("paperboy-poll")
            assert job.next_t is not None
            wait = job.next_t - dt.datetime.now(dt.UTC)
            assert wait > runtime.policy.poll_interval - dt.timedelta(seconds=30)
            async with day.sessions() as session:
                stored = await digest_for_date(session, date=dt.date(2025, 1, 24))
            assert stored is not None
        finally:
            await application.stop()
            assert application.post_stop is not None
            await application.post_stop(application)
