"""A scheduled day meets a group → supergroup move, or an /unsubscribe, while its digest is
queued: the supergroup stays subscribed and gets the digest once; an unsubscribed chat gets none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.chats import UNSUBSCRIBED, get_chat, migrate_chat, unsubscribe
from storage.deliveries import MIGRATED_SUPERSEDED, day_deliveries
from tests.delivery.daykit import Day, digest_text, open_day, sample_blocks, seoul

D24, D25 = dt.date(2025, 1, 24), dt.date(2025, 1, 25)
OLD, NEW = -41, -100_041


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """The scheduled-day kit at 2025-01-24 07:00 in Seoul, the group subscribed and the day's
    digest ready."""
    async with open_day(database_url, tmp_path) as kit:
        await kit.subscribe(OLD)
        await kit.subscribe(101)
        kit.write(D24, digest_text(D24, sample_blocks()[:3]))
        await kit.poll()
        yield kit


async def _deliver(day: Day) -> None:
    """Send everything queued; a row left open for good fails the test instead of hanging."""
    await asyncio.wait_for(day.deliver(), 30)


async def _migrate_chat(day: Day) -> None:
    """The chats part of the migrate message (what the handler did before rows moved with it)."""
    async with day.sessions.begin() as session:
        await migrate_chat(session, old_id=OLD, new_id=NEW, now=day.clock())


async def _subscribed(day: Day, chat_id: int) -> bool:
    """Whether the chat is subscribed now."""
    async with day.sessions() as session:
        chat = await get_chat(session, chat_id=chat_id)
    return chat is not None and chat.subscribed and chat.active


@pytest.mark.parametrize("message_first", [True, False])
async def test_supergroup_stays_subscribed_whichever_migration_comes_first(
    day: Day, message_first: bool
) -> None:
    """The migrate message and the engine's ChatMigrated both migrate the chat; the second used
    to copy the migrated group's subscribed=False onto the supergroup (no digest the next day)."""
    day.clock.at(seoul(24, 9))
    assert (await day.dispatch()).queued == 2
    assert day.emulator.migrate(OLD, NEW) == NEW
    if message_first:
        await _migrate_chat(day)
    await _deliver(day)  # the row goes to the old id: ChatMigrated, resent to the new one
    if not message_first:
        await _migrate_chat(day)
    assert await _subscribed(day, NEW)
    assert len(day.emulator.texts(NEW)) == 1
    day.write(D25, digest_text(D25, sample_blocks()[3:5]))
    day.clock.at(seoul(25, 7))
    await day.poll()
    day.clock.at(seoul(25, 9))
    assert (await day.dispatch()).queued == 2
    await _deliver(day)
    assert len(day.emulator.texts(NEW)) == 2


async def test_a_row_queued_for_the_supergroup_meanwhile_is_sent_once(day: Day) -> None:
    """A dispatch pass after the migrate message queues the supergroup its own row while the
    group's row still waits: the group's row is superseded when Telegram answers ChatMigrated.
    Before, moving it hit the unique key and it stayed `sending`, re-sent to the old id after
    every lease; sending it anyway would give the supergroup the digest twice."""
    day.clock.at(seoul(24, 9))
    assert (await day.dispatch()).queued == 2
    day.emulator.migrate(OLD, NEW)
    await _migrate_chat(day)
    day.clock.at(seoul(24, 9, 1))
    assert (await day.dispatch()).queued == 1  # the supergroup's own row
    await _deliver(day)
    assert len(day.emulator.texts(NEW)) == 1
    async with day.sessions() as session:
        rows = {row.chat_id: row for row in await day_deliveries(session, digest_date=D24)}
    assert (rows[OLD].state, rows[OLD].last_error) == ("skipped", MIGRATED_SUPERSEDED)
    assert (rows[NEW].state, rows[101].state) == ("sent", "sent")


async def test_unsubscribe_stops_a_queued_digest(day: Day) -> None:
    """/unsubscribe after the digest was queued: it is skipped, not sent (it used to go out)."""
    day.clock.at(seoul(24, 9))
    assert (await day.dispatch()).queued == 2
    async with day.sessions.begin() as session:
        assert await unsubscribe(session, chat_id=101, now=day.clock())
    await _deliver(day)
    assert day.emulator.texts(101) == []
    assert len(day.emulator.texts(OLD)) == 1
    async with day.sessions() as session:
        rows = {row.chat_id: row for row in await day_deliveries(session, digest_date=D24)}
    assert (rows[101].state, rows[101].last_error) == ("skipped", UNSUBSCRIBED)
    assert (await day.dispatch()).queued == 0  # and nothing is queued again
