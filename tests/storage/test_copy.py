"""`paperboy db copy --to URL` moves a whole archive between databases, search included."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.cli.commands import main
from storage import chats, copy, search  # noqa: F401  (copy registers every table)
from storage.db import create_engine, session_factory
from storage.models import Author, Base, DigestEntry, StoredDigest, StoredPaper


async def _counts(url: str) -> dict[str, int]:
    """Rows per archive table at `url`."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: (
                    await connection.execute(select(func.count()).select_from(table))
                ).scalar_one()
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


def test_copy_round_trip_keeps_every_row_and_search(
    seeded_database_url: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every row arrives, ids and references intact, and the target's search index works."""
    before = asyncio.run(_counts(seeded_database_url))
    assert before[StoredPaper.__tablename__] > 50
    assert main(["--db", seeded_database_url, "db", "copy", "--to", database_url]) == 0
    assert "papers:" in capsys.readouterr().out
    assert asyncio.run(_counts(database_url)) == before
    asyncio.run(_check_target(database_url))


async def _check_target(url: str) -> None:
    """The copy reads back like the original: entries, authors, search, new ids continue."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            hits = await search.search_papers(session, query="DocLLM", limit=3)
            assert hits
            assert hits[0].arxiv_id == "2401.00908"
            entry = await session.scalar(select(DigestEntry).limit(1))
            assert entry is not None
            assert await session.get(StoredDigest, entry.digest_id) is not None
            # New rows get fresh ids after the copied ones (sequences moved on PostgreSQL).
            session.add(Author(name="Copy Test Author", normalized="copy test author"))
            await session.commit()
    finally:
        await engine.dispose()


def test_copy_refuses_a_target_that_holds_data(
    seeded_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Copying into a database that already has digests stops with a clear message."""
    assert main(["--db", seeded_database_url, "db", "copy", "--to", seeded_database_url]) == 2
    assert "already has rows in" in capsys.readouterr().err


def test_copy_refuses_a_target_with_chats_but_no_digests(
    seeded_database_url: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any table with rows counts, not only digests (it used to fail on an IntegrityError)."""

    async def add_chat() -> None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine).begin() as session:
                await chats.subscribe(
                    session,
                    chat_id=42,
                    type="private",
                    title=None,
                    delivery_time="09:00",
                    timezone="Asia/Seoul",
                )
        finally:
            await engine.dispose()

    asyncio.run(add_chat())
    assert main(["--db", seeded_database_url, "db", "copy", "--to", database_url]) == 2
    assert "already has rows in chats" in capsys.readouterr().err
