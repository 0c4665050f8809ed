"""An archive upgraded from below `REINDEX_BELOW` gets its search index rebuilt, once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from bot.content.ingest import ingest
from storage.db import (
    REINDEX_BELOW,
    alembic_config,
    create_engine,
    current_revision,
    session_factory,
    upgrade,
)


def _documents(path: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(path) as connection:
        query = "SELECT id, arxiv_id, body_tokens FROM search_documents ORDER BY id"
        return connection.execute(query).fetchall()


async def test_upgrade_rebuilds_an_older_archives_index_once(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    try:
        await upgrade(url)  # today's ingest writes today's schema...
        await ingest([str(fixtures_dir)], sessions=session_factory(engine))
        async with engine.begin() as connection:  # ...then the archive goes back in time
            before = f"{int(REINDEX_BELOW) - 1:04d}"
            await connection.run_sync(_downgrade_to, before)
    finally:
        await engine.dispose()
    indexed = _documents(path)
    assert indexed
    with sqlite3.connect(path) as connection:  # an index as the old analysis left it
        connection.execute("UPDATE search_documents SET body_tokens = ''")

    await upgrade(url)

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await current_revision(url) == head
    rebuilt = _documents(path)
    assert sorted(row[1:] for row in rebuilt) == sorted(row[1:] for row in indexed)
    with sqlite3.connect(path) as connection:
        query = "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?"
        assert connection.execute(query, ('"모델"',)).fetchone()[0] > 0

    await upgrade(url)  # at head already: nothing is rebuilt (the same row ids stay)
    assert _documents(path) == rebuilt


async def test_a_json_entry_does_not_hide_the_korean_summary(tmp_path: Path) -> None:
    """A paper in the Markdown and the JSON digest of one day is indexed with both its Korean
    summary and its abstract, whichever was stored last (103 corpus papers lost the summary)."""
    import datetime as dt

    from bot.digest.models import Digest, Paper, SummarySection
    from storage.digest_store import store_digests

    day = dt.date(2025, 1, 27)
    common = {"arxiv_id": "2501.14726", "title": "Relightable Avatars", "link": "https://x"}
    markdown = Paper(**common, summary=(SummarySection(title=None, bullets=("조명 재현 아바타",)),))
    json_paper = Paper(**common, abstract="We propose relightable avatars.")
    url = f"sqlite+aiosqlite:///{tmp_path}/a.sqlite3"
    await upgrade(url)
    engine = create_engine(url)
    try:
        for digest in (
            Digest(date=day, source="a.md", format="markdown", papers=(markdown,), raw="md"),
            Digest(date=day, source="a.json", format="hf_json", papers=(json_paper,), raw="[]"),
        ):
            async with session_factory(engine).begin() as session:
                await store_digests(session, digests=[(digest, digest.source)])
    finally:
        await engine.dispose()
    [(_, _, body)] = _documents(tmp_path / "a.sqlite3")
    assert "아바" in body.split()
    assert "relightable" in body.split()


def _downgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_workers_starting_together_upgrade_and_reindex_once(
    database_url: str, fixtures_dir: Path
) -> None:
    """Three processes upgrading an older archive at once all succeed (one waited for the
    other's rebuild and then found nothing to do); it used to fail two of them."""
    import asyncio

    from sqlalchemy import func, select

    from storage.search_index import DOCUMENTS

    engine = create_engine(database_url)
    try:
        await upgrade(database_url)
        await ingest([str(fixtures_dir)], sessions=session_factory(engine))
        async with engine.begin() as connection:
            await connection.execute(DOCUMENTS.update().values(body_tokens=""))
            await connection.run_sync(_downgrade_to, f"{int(REINDEX_BELOW) - 1:04d}")
    finally:
        await engine.dispose()

    await asyncio.gather(*(upgrade(database_url) for _ in range(3)))

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await current_revision(database_url) == head
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            empty = select(func.count()).where(DOCUMENTS.c.body_tokens == "")
            assert await connection.scalar(empty) == 0
    finally:
        await engine.dispose()


async def test_the_rebuild_gathers_postgres_lexeme_statistics_again(
    database_url: str, fixtures_dir: Path
) -> None:
    """On PostgreSQL the upgrade's rebuild runs ANALYZE (migration 0012's ran before it): the
    search window is sized from statistics that described the old documents."""
    from storage.search_index import DOCUMENTS

    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's lexeme statistics")
    query = text(
        "SELECT most_common_elems::text::text[] FROM pg_stats "
        "WHERE tablename = 'search_documents' AND attname = 'tsv'"
    )
    engine = create_engine(database_url)
    try:
        await upgrade(database_url)
        await ingest([str(fixtures_dir)], sessions=session_factory(engine))
        async with engine.begin() as connection:  # an index the statistics know as empty
            await connection.execute(DOCUMENTS.update().values(title_tokens="", body_tokens=""))
            await connection.execute(text("ANALYZE search_documents"))
            assert "모델" not in ((await connection.scalar(query)) or [])
            await connection.run_sync(_downgrade_to, f"{int(REINDEX_BELOW) - 1:04d}")
        await upgrade(database_url)
        async with engine.connect() as connection:
            assert "모델" in ((await connection.scalar(query)) or [])
    finally:
        await engine.dispose()
