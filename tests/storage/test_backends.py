"""The archive behaves the same on every configured database backend."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from storage import papers
from storage.db import create_engine, current_revision, session_factory


async def test_seeded_archive_reads_back_the_seed_day(seeded_database_url: str) -> None:
    """The sample digests are stored and the seed day's first paper reads back."""
    engine = create_engine(seeded_database_url)
    try:
        async with session_factory(engine)() as session:
            info = await papers.digest_for_date(session, date=dt.date(2024, 1, 3))
            assert info is not None
            rows = await papers.digest_papers(session, digest_id=info.id)
            assert rows[0].arxiv_id == "2401.00908"
            assert rows[0].votes == 48
            assert rows[0].authors.count("Mathieu Sibue") == 1
    finally:
        await engine.dispose()


async def test_empty_database_is_migrated_and_isolated(database_url: str) -> None:
    """A fresh database is at the newest revision and holds no digest."""
    assert await current_revision(database_url) is not None
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM digests"))
        assert count == 0
    finally:
        await engine.dispose()
