"""A scheduled day end to end: folder source → poll → settle → ready → due → delivered."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.commands import main
from bot.content.ingest import announce_days, ingest
from storage.db import create_engine, session_factory
from storage.deliveries import chat_deliveries, last_delivery, readiness
from tests.delivery.daykit import Day, digest_text, open_day, sample_blocks, seoul, title_of

D24 = dt.date(2025, 1, 24)


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """The scheduled-day kit at 2025-01-24 07:00 in Seoul."""
    async with open_day(database_url, tmp_path) as kit:
        yield kit


def joined(day: Day, chat_id: int) -> str:
    """Everything the chat received, as one text."""
    return "\n".join(day.emulator.texts(chat_id))


async def test_scheduled_day_with_filters(day: Day) -> None:
    """A digest is polled, settles, falls due at 09:00 Seoul time and reaches each chat filtered."""
    blocks = sample_blocks()[:5]
    titles = [title_of(block) for block in blocks]
    await day.subscribe(101)
    await day.subscribe(102, top_n=1)
    await day.subscribe(103, include_keywords=["pathfinding"])
    await day.subscribe(104, include_keywords=["no-such-keyword-anywhere"])
    day.write(D24, digest_text(D24, blocks))
    polled = await day.poll()
    assert (polled.stored, polled.days) == (1, {D24})
    assert (await day.dispatch()).ready == []  # just seen: not settled yet
    day.clock.at(seoul(24, 7, 31))
    assert (await day.dispatch()).ready == [D24]
    assert (await day.dispatch()).queued == 0  # ready, but 09:00 has not come
    day.clock.at(seoul(24, 9, 0))
    report = await day.dispatch()
    assert (report.digests, report.empty, report.late) == (3, 1, 0)
    await day.deliver()
    assert all(title in joined(day, 101) for title in titles)
    assert "SRMT" in joined(day, 102)
    assert sum(title in joined(day, 102) for title in titles) == 1  # top 1 by votes
    assert "Pathfinding" in joined(day, 103)
    assert sum(title in joined(day, 103) for title in titles) == 1
    assert day.emulator.texts(104) == []  # an empty selection sends nothing
    assert (await day.dispatch()).queued == 0  # exactly once
    async with day.sessions() as session:
        last = await last_delivery(session, chat_id=101)
        empty = await chat_deliveries(session, chat_id=104)
    assert last is not None
    assert (last.digest_date, last.sent_at) == (D24, seoul(24, 9, 0))
    assert [row.state for row in empty] == ["skipped"]


async def test_growing_digest_sends_one_update_with_new_papers(day: Day) -> None:
    """A second batch appended after delivery goes out once, as an update with only new papers."""
    blocks = sample_blocks()
    first, second = blocks[:3], blocks[3:5]
    await day.subscribe(201)
    day.write(D24, digest_text(D24, first))
    await day.poll()
    day.clock.at(seoul(24, 9, 0))  # long unchanged by now
    await day.dispatch()
    await day.deliver()
    before = len(day.emulator.texts(201))
    day.clock.at(seoul(24, 10, 0))
    day.write(D24, digest_text(D24, first) + "\n" + digest_text(D24, second))
    await day.poll()
    assert (await day.dispatch()).updates == 0  # still growing: held
    day.clock.at(seoul(24, 10, 31))
    assert (await day.dispatch()).updates == 1
    await day.deliver()
    update = day.emulator.texts(201)[before:]
    assert len(update) == 1
    assert "update" in update[0]
    assert all(title_of(block) in update[0] for block in second)
    assert not any(title_of(block) in update[0] for block in first)
    day.clock.at(seoul(24, 12, 0))
    await day.poll()
    assert (await day.dispatch()).queued == 0  # nothing new: nothing more


async def test_updates_wait_for_the_chats_delivery_window(day: Day) -> None:
    """Papers added to Friday's digest at 01:00 Saturday reach an every-day 09:00 chat at 09:00
    Saturday, not in the middle of the night; a weekdays-only chat gets no weekend message (by
    Monday the update is older than `max_age_days`, so it is dropped, not sent late)."""
    blocks = sample_blocks()
    first, second = blocks[:3], blocks[3:5]
    await day.subscribe(401)
    await day.subscribe(402, weekdays="12345")
    day.write(D24, digest_text(D24, first))
    await day.poll()
    day.clock.at(seoul(24, 9, 0))  # Friday
    assert (await day.dispatch()).digests == 2
    await day.deliver()
    day.clock.at(seoul(25, 1, 0))  # Saturday, 01:00
    day.write(D24, digest_text(D24, first) + "\n" + digest_text(D24, second))
    await day.poll()
    day.clock.at(seoul(25, 1, 31))  # settled, but both chats are asleep
    assert (await day.dispatch()).updates == 0
    day.clock.at(seoul(25, 9, 0))
    assert (await day.dispatch()).updates == 1  # the every-day chat only
    await day.deliver()
    assert title_of(second[0]) in joined(day, 401)
    assert title_of(second[0]) not in joined(day, 402)
    day.clock.at(seoul(26, 9, 0))  # Sunday
    assert (await day.dispatch()).updates == 0
    day.clock.at(seoul(27, 9, 0))  # Monday
    assert (await day.dispatch()).updates == 0


async def test_digest_still_growing_is_held_until_it_settles(day: Day) -> None:
    """A digest that keeps changing is not sent half-done at the chat's time."""
    blocks = sample_blocks()
    await day.subscribe(301)
    day.clock.at(seoul(24, 8, 50))
    day.write(D24, digest_text(D24, blocks[:2]))
    await day.poll()
    day.clock.at(seoul(24, 9, 5))
    day.write(D24, digest_text(D24, blocks[:4]))
    await day.poll()
    assert (await day.dispatch()).queued == 0
    day.clock.at(seoul(24, 9, 36))
    assert (await day.dispatch()).digests == 1
    await day.deliver()
    assert all(title_of(block) in joined(day, 301) for block in blocks[:4])


async def test_catch_up_after_downtime_is_marked_late(day: Day) -> None:
    """After downtime each chat gets the recent digests it missed, marked late, old ones not."""
    blocks = sample_blocks()
    await day.subscribe(401)
    old, missed, today = dt.date(2025, 1, 19), dt.date(2025, 1, 23), D24
    for when, date, part in ((seoul(19, 7), old, 0), (seoul(23, 7), missed, 2)):
        day.clock.at(when)
        day.write(date, digest_text(date, blocks[part : part + 2]))
        await day.poll()
        day.clock.at(when + dt.timedelta(hours=1))
        await day.dispatch()  # ready before its slot; the bot then goes down
    day.emulator.reset()
    day.clock.at(seoul(24, 7))
    day.write(today, digest_text(today, blocks[4:6]))
    await day.poll()
    day.clock.at(seoul(24, 12))  # back up at noon: two digests missed, one too old
    report = await day.dispatch()
    assert (report.digests, report.late) == (2, 2)
    await day.deliver()
    texts = day.emulator.texts(401)
    assert "2025-01-23" in texts[0]
    assert "late" in texts[0]
    assert "2025-01-24" in texts[-1]
    assert "late" in texts[-1]
    assert "2025-01-19" not in joined(day, 401)


async def test_weekdays_only_chat_waits_for_monday(day: Day) -> None:
    """A weekdays-only chat gets nothing on Saturday; the digest reaches it on Monday at 09:00."""
    saturday = dt.date(2025, 1, 25)
    await day.subscribe(501, weekdays="12345")
    await day.subscribe(502)
    day.clock.at(seoul(25, 7))
    day.write(saturday, digest_text(saturday, sample_blocks()[:2]))
    await day.poll()
    day.clock.at(seoul(25, 9, 30))
    await day.dispatch()
    await day.deliver()
    assert day.emulator.texts(501) == []
    assert day.emulator.texts(502) != []
    day.clock.at(seoul(27, 8, 59))
    assert (await day.dispatch()).queued == 0
    day.clock.at(seoul(27, 9, 0))
    assert (await day.dispatch()).digests == 1
    await day.deliver()
    assert "2025-01-25" in joined(day, 501)


async def test_days_without_digest_send_nothing(day: Day) -> None:
    """With no digest for the day nothing is queued, however late it gets."""
    await day.subscribe(601)
    await day.poll()
    day.clock.at(seoul(24, 23))
    assert (await day.dispatch()).queued == 0
    async with day.sessions() as session:
        assert await readiness(session, date=D24) is None


async def test_a_day_ingested_by_hand_is_delivered(day: Day) -> None:
    """`ingest` announces the days it stored, as a poll does: they settle, then go out."""
    await day.subscribe(701)
    date = dt.date(2025, 1, 24)
    path = day.write(date, digest_text(date, sample_blocks()[:2]))
    day.clock.at(seoul(24, 9, 5))
    report = await ingest([str(path)], sessions=day.sessions)
    await announce_days(report.days, sessions=day.sessions, now=day.clock())
    assert (await day.dispatch()).queued == 0  # seen, not settled yet
    day.clock.at(seoul(24, 9, 40))
    assert (await day.dispatch()).digests == 1
    await day.deliver()
    assert title_of(sample_blocks()[0]) in day.emulator.texts(701)[0]


async def test_a_day_ingested_ready_goes_out_at_once(day: Day) -> None:
    """`ingest --ready` declares the day complete: no settle time, until it changes again."""
    await day.subscribe(701)
    date = dt.date(2025, 1, 24)
    path = day.write(date, digest_text(date, sample_blocks()[:2]))
    day.clock.at(seoul(24, 9, 5))
    report = await ingest([str(path)], sessions=day.sessions)
    await announce_days(report.days, sessions=day.sessions, now=day.clock(), ready=True)
    assert (await day.dispatch()).digests == 1
    day.write(date, digest_text(date, sample_blocks()[:3]))
    day.clock.at(seoul(24, 9, 10))
    await day.poll()  # a later change settles like any other
    assert (await day.dispatch()).queued == 0
    async with day.sessions() as session:
        row = await readiness(session, date=date)
    assert row is not None
    assert row.by_hand is False


async def test_cli_ingest_ready_marks_the_day(tmp_path: Path) -> None:
    """`paperboy ingest FILE --ready` records the day as ready by hand."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    date = dt.date(2025, 1, 24)
    path = tmp_path / "2025-01-24.md"
    path.write_text(digest_text(date, sample_blocks()[:2]), encoding="utf-8")
    code = await asyncio.to_thread(main, ["--db", url, "ingest", str(path), "--ready", "--json"])
    assert code == 0
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            row = await readiness(session, date=date)
    finally:
        await engine.dispose()
    assert row is not None
    assert row.by_hand is True
    assert row.ready_at is not None
