"""`authors.paper_count` follows the stored author lists, on every backend, and an older
archive gets it counted when upgraded (migration 0014)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.ingest import ingest
from storage.author_search import search_authors
from storage.db import create_engine, session_factory, upgrade
from tests.storage.test_archive import make_digest, make_paper
from tests.storage.test_reindex import _downgrade_to

_COUNTED = (
    "SELECT a.name, a.paper_count, "
    "(SELECT count(*) FROM paper_authors pa WHERE pa.author_id = a.id) AS listed "
    "FROM authors a ORDER BY a.name"
)


async def _counts(engine: AsyncEngine) -> dict[str, tuple[int, int]]:
    """Each author's kept count beside the count of its listings."""
    async with engine.connect() as connection:
        rows = (await connection.execute(text(_COUNTED))).all()
    return {row.name: (row.paper_count, row.listed) for row in rows}


async def test_counts_follow_new_and_replaced_author_lists(database_url: str) -> None:
    from storage.digest_store import store_digest

    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        first = make_digest(
            make_paper("2401.00001", "One", 5, ("Ada Lovelace", "Alan Turing")),
            make_paper("2401.00002", "Two", 9, ("Ada Lovelace",)),
        )
        async with sessions.begin() as session:
            await store_digest(session, digest=first, source=first.source)
        assert await _counts(engine) == {"Ada Lovelace": (2, 2), "Alan Turing": (1, 1)}

        # A later revision of the day changes paper one's list: Turing loses his only paper.
        second = make_digest(
            make_paper("2401.00001", "One", 7, ("Grace Hopper",)),
            make_paper("2401.00002", "Two", 9, ("Ada Lovelace",)),
        )
        async with sessions.begin() as session:
            await store_digest(session, digest=second, source=second.source)
        counts = await _counts(engine)
        assert counts["Ada Lovelace"] == (1, 1)
        assert counts["Alan Turing"] == (0, 0)
        assert counts["Grace Hopper"] == (1, 1)

        # Another day adds papers to known authors.
        third = make_digest(
            make_paper("2401.00003", "Three", 1, ("Grace Hopper", "Ada Lovelace")),
            day=dt.date(2024, 1, 4),
        )
        async with sessions.begin() as session:
            await store_digest(session, digest=third, source=third.source)
        counts = await _counts(engine)
        assert counts["Ada Lovelace"] == (2, 2)
        assert counts["Grace Hopper"] == (2, 2)

        async with sessions() as session:  # the look-up ranks (and reports) by the kept count
            hits = await search_authors(session, query="a", limit=5)
        assert [(hit.name, hit.paper_count) for hit in hits][:2] == [
            ("Ada Lovelace", 2),
            ("Alan Turing", 0),
        ]
    finally:
        await engine.dispose()


async def test_upgrade_counts_an_older_archives_authors(
    database_url: str, fixtures_dir: Path
) -> None:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        await ingest([str(fixtures_dir)], sessions=session_factory(engine))
        before = await _counts(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade_to, "0013")
            columns = await connection.run_sync(
                lambda sync: [column["name"] for column in inspect(sync).get_columns("authors")]
            )
        assert "paper_count" not in columns
        await upgrade(database_url)
        after = await _counts(engine)
        async with session_factory(engine)() as session:
            found = await search_authors(session, query=next(iter(after)), limit=3)
    finally:
        await engine.dispose()
    assert len(after) > 20
    assert after == before
    assert all(kept == listed for kept, listed in after.values())
    assert max(kept for kept, _ in after.values()) > 1
    assert found  # on SQLite the name index (author_fts) survived the new update trigger


async def test_a_prefix_keeps_the_name_itself_and_ranks_spellings_as_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only `AUTHOR_MATCHES` prefix matches are scored: the name itself (`Liu`) is one of
    them however few its papers, and spellings that fold alike are ranked by their papers
    together (each alone would fall below the cut)."""
    from storage import author_search
    from storage.digest_store import store_digest

    monkeypatch.setattr(author_search, "AUTHOR_MATCHES", 3)
    lists = [
        ("Wei Liu",), ("Wei Liu",), ("Yang Liu",), ("Yang Liu",), ("Ce Liu",), ("Ce Liu",),
        ("Liu",), ("Jia Liu",), ("Jia LIU",), ("Jia LIU", "Jia Liu"), ("Jia LIU",),
    ]  # fmt: skip
    digest = make_digest(
        *(make_paper(f"2401.{n:05d}", f"P{n}", 1, names) for n, names in enumerate(lists, 1))
    )
    engine = create_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            await store_digest(session, digest=digest, source=digest.source)
        async with session_factory(engine)() as session:
            hits = await search_authors(session, query="liu", limit=2)
    finally:
        await engine.dispose()
    assert [hit.name for hit in hits] == ["Liu", "Jia LIU"]
    assert hits[1].paper_count == 4  # one paper lists both spellings: counted once
    assert len(hits[1].ids) == 2
