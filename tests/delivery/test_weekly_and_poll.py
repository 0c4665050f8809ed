"""Weekly cadence and the journal-club poll after a group's digest, through the dispatcher, the
engine and the emulator, with the clock moved by hand."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.dispatch import ChatSchedule, SchedulePolicy, plan_weekly
from storage.chats import subscribe, update_settings
from storage.deliveries import chat_deliveries
from storage.polls import open_poll
from tests.delivery.daykit import Day, digest_text, open_day, sample_blocks, seoul, title_of

D22, D24 = dt.date(2025, 1, 22), dt.date(2025, 1, 24)  # Wednesday and Friday of 2025-W04
WEEK_TITLE = "📊 Weekly Papers · 2025-W04"


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """The scheduled-day kit at 2025-01-24 07:00 in Seoul."""
    async with open_day(database_url, tmp_path) as kit:
        yield kit


async def _week_of_digests(day: Day) -> list[str]:
    """Digests for Wednesday and Friday of 2025-W04, polled and settled; their titles."""
    blocks = sample_blocks()
    day.write(D22, digest_text(D22, blocks[:3]))
    day.write(D24, digest_text(D24, blocks[3:6]))
    await day.poll()
    return [title_of(block) for block in blocks[:6]]


def _weekly(day: Day, chat_id: int) -> list[str]:
    """The weekly digest messages a chat received."""
    return [text for text in day.emulator.texts(chat_id) if WEEK_TITLE in text]


async def test_weekly_chat_gets_one_weekly_on_monday_and_no_dailies(day: Day) -> None:
    """weekly: nothing daily, one weekly digest on Monday at its time; both: both; daily: none;
    repeated passes and fresh engines add nothing."""
    titles = await _week_of_digests(day)
    await day.subscribe(701, cadence="weekly")
    await day.subscribe(702, cadence="both")
    await day.subscribe(703)
    await day.subscribe(704, cadence="weekly", top_n=2)
    day.clock.at(seoul(24, 9))
    report = await day.dispatch()
    assert (report.digests, report.weekly) == (4, 0)  # 702 and 703, two days each
    await day.deliver()
    assert day.emulator.texts(701) == []
    daily = len(day.emulator.texts(702))
    assert daily > 0
    day.clock.at(seoul(27, 8, 59))  # Monday, a minute early
    assert (await day.dispatch()).queued == 0
    day.clock.at(seoul(27, 9))
    report = await day.dispatch()
    assert (report.weekly, report.digests, report.late) == (3, 0, 0)
    await day.deliver()
    weekly = _weekly(day, 701)
    assert len(weekly) == len(day.emulator.texts(701)) == 1
    assert "2025-01-20 – 2025-01-26" in weekly[0]
    assert all(title in weekly[0] for title in titles)
    assert len(_weekly(day, 702)) == 1
    assert len(day.emulator.texts(702)) == daily + 1
    assert _weekly(day, 703) == []
    assert sum(title in _weekly(day, 704)[0] for title in titles) == 2
    for moment in (seoul(27, 9, 1), seoul(28, 9), seoul(30, 23)):  # repeats, catch-up window
        day.clock.at(moment)
        assert (await day.dispatch()).queued == 0
        await day.deliver()
    assert [len(_weekly(day, chat)) for chat in (701, 702, 704)] == [1, 1, 1]
    async with day.sessions() as session:
        rows = await chat_deliveries(session, chat_id=701)
    assert [(row.kind, row.digest_date, row.state) for row in rows] == [
        ("weekly", dt.date(2025, 1, 20), "sent")
    ]


async def test_weekly_honours_zone_and_subscription_time(day: Day) -> None:
    """A London chat gets its weekly at 09:00 London time; a chat that subscribed after the week
    ended gets none for it."""
    titles = await _week_of_digests(day)
    await day.subscribe(711, cadence="weekly")
    async with day.sessions.begin() as session:
        await update_settings(session, chat_id=711, timezone="Europe/London")
        await subscribe(
            session,
            chat_id=712,
            type="private",
            title=None,
            delivery_time="09:00",
            timezone="Asia/Seoul",
            now=seoul(27, 8),  # Monday 08:00: week 4 had ended
        )
        await update_settings(session, chat_id=712, cadence="weekly")
    day.clock.at(seoul(27, 9))
    assert (await day.dispatch()).weekly == 0
    day.clock.at(seoul(27, 18))  # 09:00 in London
    assert (await day.dispatch()).weekly == 1
    await day.deliver()
    assert titles[0] in _weekly(day, 711)[0]
    assert day.emulator.texts(712) == []


def test_plan_weekly_catch_up_is_late_and_bounded() -> None:
    """After downtime the weekly digest is caught up late, within the catch-up days only."""
    chat = ChatSchedule(
        zoneinfo.ZoneInfo("Asia/Seoul"), dt.time(9), frozenset(range(1, 8)), seoul(1, 0)
    )
    policy = SchedulePolicy()
    late = plan_weekly(chat, seoul(29, 12), policy)  # Wednesday
    assert late is not None
    assert (late.start, late.label, late.late) == (dt.date(2025, 1, 20), "2025-W04", True)
    assert plan_weekly(chat, seoul(31, 12), policy) is None  # Friday: too late
    assert plan_weekly(chat, seoul(20, 8, 59), policy) is None  # Monday, before its time
    on_time = plan_weekly(chat, seoul(20, 9), policy)
    assert on_time is not None
    assert (on_time.start, on_time.label, on_time.late) == (dt.date(2025, 1, 13), "2025-W03", False)


async def test_group_digest_is_followed_by_its_poll(day: Day) -> None:
    """A group with the poll setting gets its digest, then a native poll of those papers that
    /poll close can find; others get none, and repeated passes add nothing."""
    blocks = sample_blocks()[:5]
    day.write(D24, digest_text(D24, blocks))
    await day.poll()
    await day.subscribe(-801, journal_poll=True)
    await day.subscribe(-802)
    await day.subscribe(-803, journal_poll=True, top_n=1)  # one paper: nothing to vote on
    await day.subscribe(-804, journal_poll=True, cadence="weekly")
    day.clock.at(seoul(24, 9))
    report = await day.dispatch()
    assert (report.digests, report.polls) == (3, 1)
    await day.deliver()
    messages = day.emulator.messages(-801)
    assert messages[-1].poll is not None
    assert all(message.poll is None for message in messages[:-1])
    options = [option["text"] for option in messages[-1].poll["options"]]
    assert len(options) == 5
    assert options[0].startswith("1. ")
    assert "2025-01-24" in messages[-1].poll["question"]
    async with day.sessions() as session:
        stored = await open_poll(session, chat_id=-801)
    assert stored is not None
    assert stored.message_id == messages[-1].message_id
    assert stored.day == D24
    assert len(stored.arxiv_ids) == 5
    for chat_id in (-802, -803, -804):
        assert all(message.poll is None for message in day.emulator.messages(chat_id))
    day.clock.at(seoul(24, 9, 5))
    assert (await day.dispatch()).queued == 0
    await day.deliver()
    assert sum(m.poll is not None for m in day.emulator.messages(-801)) == 1
