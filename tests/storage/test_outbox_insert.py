"""`add_deliveries` (a dispatch pass's one insert) reports exactly the rows it created."""

from __future__ import annotations

import datetime as dt

from storage.chats import subscribe
from storage.db import create_engine, session_factory
from storage.deliveries import add_deliveries, chat_deliveries, new_delivery, new_key

DAY = dt.date(2025, 1, 24)
NOW = dt.datetime(2025, 1, 24, 0, 0, tzinfo=dt.UTC)


def row(chat_id: int, *, kind: str = "digest", seq: int = 0) -> dict[str, object]:
    """An outbox row for `chat_id` on DAY."""
    return new_delivery(
        chat_id=chat_id,
        digest_date=DAY,
        kind="update" if kind == "update" else "digest",
        seq=seq,
        messages=[f"<b>hello {chat_id}</b>", "안녕"],
        arxiv_ids=["2501.00001"],
        known_ids=["2501.00001", "2501.00002"],
        now=NOW,
        late=chat_id % 2 == 0,
    )


async def test_new_rows_come_back_and_existing_ones_do_not(database_url: str) -> None:
    """Existing keys are skipped (ON CONFLICT DO NOTHING) and left out of the returned keys."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            for chat_id in (1, 2, 3):
                await subscribe(
                    session,
                    chat_id=chat_id,
                    type="private",
                    title=None,
                    delivery_time="09:00",
                    timezone="Asia/Seoul",
                    now=NOW,
                )
        async with sessions.begin() as session:
            first = await add_deliveries(session, rows=[row(1), row(2)])
        assert first == {(1, DAY, "digest", 0), (2, DAY, "digest", 0)}
        rows = [row(2), row(3), row(1, kind="update", seq=1)]
        async with sessions.begin() as session:
            second = await add_deliveries(session, rows=rows)
            assert await add_deliveries(session, rows=[]) == set()
        assert second == {new_key(rows[1]), new_key(rows[2])}
        async with sessions() as session:
            stored = await chat_deliveries(session, chat_id=1)
        assert [(r.kind, r.seq, r.messages, r.known_ids) for r in stored] == [
            ("digest", 0, ["<b>hello 1</b>", "안녕"], ["2501.00001", "2501.00002"]),
            ("update", 1, ["<b>hello 1</b>", "안녕"], ["2501.00001", "2501.00002"]),
        ]
    finally:
        await engine.dispose()
