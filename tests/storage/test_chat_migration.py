"""Group → supergroup moves and /unsubscribe at the storage level: `migrate_chat` may run twice
(the migrate message and the engine's ChatMigrated, in either order), `move_chat_rows` meets rows
the supergroup already has, and `unsubscribe` skips what is still queued."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import chats
from storage.db import create_engine, session_factory
from storage.deliveries import (
    MIGRATED_SUPERSEDED,
    RowChange,
    add_delivery,
    apply_changes,
    chat_deliveries,
    get_delivery,
    move_chat_rows,
    new_delivery,
)

DAY = dt.date(2025, 1, 24)
NOW = dt.datetime(2025, 1, 24, 0, 0, tzinfo=dt.UTC)
OLD, NEW = -41, -100_041
DEFAULTS: dict[str, Any] = {"delivery_time": "09:00", "timezone": "Asia/Seoul", "now": NOW}


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh empty database (SQLite, and PostgreSQL when configured)."""
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _group(sessions: async_sessionmaker[AsyncSession], chat_id: int, **settings: Any) -> None:
    """A subscribed group with some settings."""
    async with sessions.begin() as session:
        await chats.subscribe(session, chat_id=chat_id, type="group", title="G", **DEFAULTS)
        if settings:
            await chats.update_settings(session, chat_id=chat_id, **settings)


async def _queue(
    sessions: async_sessionmaker[AsyncSession],
    chat_id: int,
    *,
    kind: str = "digest",
    seq: int = 0,
    **columns: Any,
) -> int:
    """One outbox row for DAY (columns such as state or claimed_by set afterwards)."""
    async with sessions.begin() as session:
        row_id = await add_delivery(
            session,
            row=new_delivery(
                chat_id=chat_id,
                digest_date=DAY,
                kind="update" if kind == "update" else "digest",
                seq=seq,
                messages=[f"to {chat_id}"],
                arxiv_ids=[],
                known_ids=[],
                now=NOW,
            ),
        )
        assert row_id is not None
        if columns:
            await apply_changes(session, changes=[RowChange(row_id, columns)])
    return row_id


async def _row(sessions: async_sessionmaker[AsyncSession], row_id: int) -> Any:
    """A row as stored now."""
    async with sessions() as session:
        row = await get_delivery(session, delivery_id=row_id)
    assert row is not None
    return row


async def test_migrating_twice_keeps_the_supergroup_subscribed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The second call (whichever path comes second) changes nothing: before the fix it copied
    the migrated group's subscribed=False onto the supergroup."""
    await _group(sessions, OLD, top_n=3, include_keywords=["rl"])
    for _ in range(2):
        async with sessions.begin() as session:
            new = await chats.migrate_chat(session, old_id=OLD, new_id=NEW, now=NOW)
            assert new is not None
            assert (new.subscribed, new.active, new.top_n) == (True, True, 3)
            assert new.include_keywords == ["rl"]
    async with sessions.begin() as session:  # a stray later call for another id copies nothing
        assert await chats.migrate_chat(session, old_id=OLD, new_id=-100_999) is None
        assert [c.chat_id for c in await chats.subscribed_chats(session)] == [NEW]
        old = await chats.get_chat(session, chat_id=OLD)
    assert old is not None
    assert (old.subscribed, old.active, old.migrated_to) == (False, False, NEW)


async def test_an_unsubscribed_group_does_not_unsubscribe_its_supergroup(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A supergroup subscribed on its own keeps its subscription and settings."""
    await _group(sessions, OLD, top_n=3)
    await _group(sessions, NEW, top_n=7)
    async with sessions.begin() as session:
        assert await chats.unsubscribe(session, chat_id=OLD, now=NOW)
        new = await chats.migrate_chat(session, old_id=OLD, new_id=NEW, now=NOW)
        assert new is not None
        assert (new.subscribed, new.top_n) == (True, 7)
        old = await chats.get_chat(session, chat_id=OLD)
    assert old is not None
    assert old.migrated_to == NEW


async def test_rows_the_supergroup_already_has_are_superseded_not_moved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The old row whose key the new id holds is skipped (before the fix: a unique-key error
    that left it `sending` for good); the others move; the new id's row is left alone."""
    await _group(sessions, OLD)
    held = await _queue(
        sessions, OLD, state="sending", claimed_by="w1", lease_until=NOW + dt.timedelta(hours=1)
    )
    update = await _queue(sessions, OLD, kind="update", seq=1)
    theirs = await _queue(sessions, NEW)
    async with sessions.begin() as session:
        await chats.migrate_chat(session, old_id=OLD, new_id=NEW, now=NOW)
        result = await move_chat_rows(session, old_id=OLD, new_id=NEW, now=NOW)
    assert (result.moved, result.superseded) == (1, frozenset({held}))
    superseded = await _row(sessions, held)
    assert (superseded.chat_id, superseded.state) == (OLD, "skipped")
    assert (superseded.last_error, superseded.claimed_by) == (MIGRATED_SUPERSEDED, None)
    moved = await _row(sessions, update)
    assert (moved.chat_id, moved.state) == (NEW, "pending")
    assert (await _row(sessions, theirs)).state == "pending"


async def test_the_migrate_message_leaves_rows_a_worker_holds(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """With `unclaimed_only` (the handler) a held row stays for its worker to move."""
    await _group(sessions, OLD)
    held = await _queue(
        sessions, OLD, state="sending", claimed_by="w1", lease_until=NOW + dt.timedelta(hours=1)
    )
    update = await _queue(sessions, OLD, kind="update", seq=1)
    async with sessions.begin() as session:
        result = await move_chat_rows(session, old_id=OLD, new_id=NEW, now=NOW, unclaimed_only=True)
    assert (result.moved, result.superseded) == (1, frozenset())
    assert ((await _row(sessions, held)).chat_id, (await _row(sessions, update)).chat_id) == (
        OLD,
        NEW,
    )


async def test_a_row_inserted_concurrently_for_the_new_id_is_superseded(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """PostgreSQL: a dispatch pass inserts the new id's row after the check; the move fails
    inside its savepoint, the check runs again and the row is superseded, and the migration's
    transaction still commits."""
    if not database_url.startswith("postgresql"):
        pytest.skip("one writer at a time on SQLite: no insert can come between")
    await _group(sessions, OLD)
    old_row = await _queue(sessions, OLD)
    async with sessions() as dispatcher:
        await dispatcher.begin()
        await add_delivery(
            dispatcher,
            row=new_delivery(
                chat_id=NEW,
                digest_date=DAY,
                kind="digest",
                messages=["new"],
                arxiv_ids=[],
                known_ids=[],
                now=NOW,
            ),
        )

        async def migrate() -> Any:
            async with sessions.begin() as session:
                await chats.migrate_chat(session, old_id=OLD, new_id=NEW, now=NOW)
                return await move_chat_rows(session, old_id=OLD, new_id=NEW, now=NOW)

        task = asyncio.create_task(migrate())
        await asyncio.sleep(0.5)  # the move now waits on the uncommitted row's key
        assert not task.done()
        await dispatcher.commit()
    result = await asyncio.wait_for(task, 10)
    assert (result.moved, result.superseded) == (0, frozenset({old_row}))
    assert (await _row(sessions, old_row)).state == "skipped"
    async with sessions() as session:
        new = await chats.get_chat(session, chat_id=NEW)
    assert new is not None
    assert new.subscribed


async def test_unsubscribe_skips_what_is_still_queued(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Queued rows no worker holds are skipped; rows being sent, sent rows and other chats'
    rows are not. Before the fix nothing was skipped and the digest went out anyway."""
    await _group(sessions, OLD)
    await _group(sessions, -7)
    lease = NOW + dt.timedelta(hours=1)
    due = await _queue(sessions, OLD)
    expired = await _queue(
        sessions,
        OLD,
        kind="update",
        seq=1,
        claimed_by="dead",
        lease_until=NOW - dt.timedelta(hours=1),
    )
    claimed = await _queue(sessions, OLD, kind="update", seq=2, claimed_by="w1", lease_until=lease)
    sending = await _queue(
        sessions, OLD, kind="update", seq=3, state="sending", claimed_by="w1", lease_until=lease
    )
    sent = await _queue(sessions, OLD, kind="update", seq=4, state="sent")
    other = await _queue(sessions, -7)
    async with sessions.begin() as session:
        assert await chats.unsubscribe(session, chat_id=OLD, now=NOW)
    states = {row_id: (await _row(sessions, row_id)).state for row_id in (due, expired)}
    assert states == {due: "skipped", expired: "skipped"}
    assert (await _row(sessions, due)).last_error == chats.UNSUBSCRIBED
    for row_id, state in ((claimed, "pending"), (sending, "sending"), (sent, "sent")):
        assert (await _row(sessions, row_id)).state == state
    assert (await _row(sessions, other)).state == "pending"
    # A row a dispatch pass queued just as the chat left: /unsubscribe again skips it too.
    late = await _queue(sessions, OLD, kind="update", seq=5)
    async with sessions.begin() as session:
        assert not await chats.unsubscribe(session, chat_id=OLD, now=NOW)
        assert [row.state for row in await chat_deliveries(session, chat_id=-7)] == ["pending"]
    assert (await _row(sessions, late)).state == "skipped"
