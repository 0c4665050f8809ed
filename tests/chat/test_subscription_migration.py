"""The migrate service message end to end: queued rows follow the group to its supergroup in the
same transaction (so a dispatch pass queues no second digest there), and a repeated message
changes nothing."""

from __future__ import annotations

import datetime as dt

from storage import chats
from storage.deliveries import RowChange, add_delivery, apply_changes, get_delivery, new_delivery
from tests.chat.conftest import ChatDriver

OLD, NEW = -4242, -100_4242
ADMIN = 2001
DAY = dt.date(2025, 1, 30)


async def _queue(chat: ChatDriver, *, seq: int, **columns: object) -> int:
    """One outbox row for the old group (columns such as state set afterwards)."""
    async with chat.services.sessions.begin() as session:
        row_id = await add_delivery(
            session,
            row=new_delivery(
                chat_id=OLD,
                digest_date=DAY,
                kind="update" if seq else "digest",
                seq=seq,
                messages=["hello"],
                arxiv_ids=[],
                known_ids=[],
                now=chat.clock.now,
            ),
        )
        assert row_id is not None
        if columns:
            await apply_changes(session, changes=[RowChange(row_id, dict(columns))])
    return row_id


async def test_migrate_message_moves_queued_rows_and_is_idempotent(chat: ChatDriver) -> None:
    """A waiting row moves to the supergroup; a row a worker is sending stays for the worker
    (Telegram's ChatMigrated moves it); a second message leaves the supergroup subscribed."""
    chat.emulator.add_chat(OLD, type="group", administrators=[ADMIN])
    await chat.send("/subscribe", user=ADMIN, chat=OLD)
    waiting = await _queue(chat, seq=0)
    held = await _queue(
        chat,
        seq=1,
        state="sending",
        claimed_by="worker-1",
        lease_until=chat.clock.now + dt.timedelta(minutes=10),
    )
    await chat.migrate(OLD, NEW, user=ADMIN)
    await chat.migrate(OLD, NEW, user=ADMIN)
    async with chat.services.sessions() as session:
        moved = await get_delivery(session, delivery_id=waiting)
        kept = await get_delivery(session, delivery_id=held)
        new = await chats.get_chat(session, chat_id=NEW)
    assert moved is not None
    assert kept is not None
    assert new is not None
    assert (moved.chat_id, moved.state) == (NEW, "pending")
    assert (kept.chat_id, kept.state) == (OLD, "sending")
    assert (new.subscribed, new.active) == (True, True)
