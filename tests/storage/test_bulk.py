"""Bulk INSERTs (`storage.bulk.insert_many`) store exactly what Core stores, on every backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.dialects import sqlite

from storage.bulk import MAX_PARAMETERS, insert_many, multi_row_values
from storage.db import create_engine, session_factory, upgrade
from storage.models import Author, DigestEntry, StoredDigest, StoredPaper

NOW = dt.datetime(2024, 2, 1, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=9)))
PAPERS: Table = StoredPaper.__table__  # type: ignore[assignment]
ENTRIES: Table = DigestEntry.__table__  # type: ignore[assignment]
DIGESTS: Table = StoredDigest.__table__  # type: ignore[assignment]
AUTHORS: Table = Author.__table__  # type: ignore[assignment]


def paper_values(arxiv_id: str) -> dict[str, Any]:
    """A papers row exercising every converted type: booleans, dates, a tz-aware timestamp."""
    return {
        "arxiv_id": arxiv_id,
        "title": "모델 Model",
        "link": "https://arxiv.org/abs/1",
        "media_url": None,
        "media_kind": None,
        "abstract": None,
        "authors_truncated": True,
        "latest_votes": 3,
        "first_seen": dt.date(2024, 1, 2),
        "last_seen": dt.date(2024, 1, 3),
        "updated_at": NOW,
        "ai_summary": "A one-line summary.",
        "ai_keywords": ["reinforcement learning", "강화 학습"],
        "github_repo": None,
        "github_stars": 0,
        "project_page": None,
        "num_comments": 2,
        "submitter": "someone",
        "organization": None,
    }


def entry_values(digest_id: int, arxiv_id: str, summary: Any) -> dict[str, Any]:
    """A digest_entries row with a JSON summary (None stores JSON null, as in Core)."""
    return {
        "digest_id": digest_id,
        "arxiv_id": arxiv_id,
        "position": 0,
        "votes": None,
        "title": "t",
        "summary": summary,
        "raw_block": "raw",
        "line": 1,
    }


async def test_insert_many_stores_what_core_stores(database_url: str) -> None:
    """Rows written by `insert_many` read back (raw, as the database holds them) like Core's."""
    engine = create_engine(database_url)
    digest = {
        "date": dt.date(2024, 1, 3),
        "format": "markdown",
        "source": "s",
        "revision": 1,
        "content_hash": "h",
        "raw_text": "raw",
        "paper_count": 2,
        "error_count": 0,
        "ingested_at": NOW,
        "is_latest": True,
    }
    summaries = {"core": [{"title": None, "bullets": ["강화 학습"]}], "bulk": None}
    try:
        async with session_factory(engine).begin() as session:
            inserted = await session.execute(insert(DIGESTS).returning(DIGESTS.c.id), digest)
            did = inserted.scalar_one()
            await session.execute(insert(PAPERS), [paper_values("core"), paper_values("core2")])
            await session.execute(insert(ENTRIES), [entry_values(did, "core", summaries["core"])])
            await session.execute(insert(ENTRIES), [entry_values(did, "core2", None)])
            columns = tuple(c.name for c in PAPERS.columns)
            rows = [tuple(paper_values(i)[c] for c in columns) for i in ("bulk", "bulk2")]
            await insert_many(session, statement=insert(PAPERS), columns=columns, rows=rows)
            columns = tuple(c.name for c in ENTRIES.columns)
            rows = [
                tuple(entry_values(did, "bulk", summaries["core"])[c] for c in columns),
                tuple(entry_values(did, "bulk2", None)[c] for c in columns),
            ]
            await insert_many(session, statement=insert(ENTRIES), columns=columns, rows=rows)
            papers = await session.execute(text("SELECT * FROM papers ORDER BY arxiv_id"))
            raw_papers = [tuple(row)[1:] for row in papers]
            entries = await session.execute(
                text("SELECT CAST(summary AS TEXT) FROM digest_entries ORDER BY arxiv_id")
            )
            raw_entries = [row[0] for row in entries]
    finally:
        await engine.dispose()
    assert raw_papers[:2] == raw_papers[2:]  # bulk, bulk2 read as core, core2
    assert raw_entries[:2] == raw_entries[2:]
    assert "강화 학습" in raw_entries[0]
    assert "null" in raw_entries[1]


async def test_insert_many_returns_created_rows_only(tmp_path: Path) -> None:
    """On SQLite, RETURNING gives the rows the statement created, none for existing ones."""
    url = f"sqlite+aiosqlite:///{tmp_path}/bulk.sqlite3"
    await upgrade(url)
    engine = create_engine(url)
    upsert = sqlite.insert(AUTHORS).on_conflict_do_nothing(index_elements=["name"])
    statement = upsert.returning(AUTHORS.c.name, AUTHORS.c.id)
    columns = ("name", "normalized")
    try:
        async with session_factory(engine).begin() as session:
            first = await insert_many(
                session, statement=statement, columns=columns, rows=[("Ann", "ann"), ("Bo", "bo")]
            )
            again = await insert_many(
                session, statement=statement, columns=columns, rows=[("Bo", "bo"), ("Cy", "cy")]
            )
    finally:
        await engine.dispose()
    assert sorted(name for name, _ in first) == ["Ann", "Bo"]
    assert [name for name, _ in again] == ["Cy"]
    assert len({author_id for _, author_id in [*first, *again]}) == 3


def test_statements_stay_under_the_parameter_limit() -> None:
    """Rows are split so no statement binds more than `MAX_PARAMETERS` values, none lost."""
    sql = "INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    rows = [(i, i, i) for i in range(MAX_PARAMETERS // 3 * 2 + 5)]
    statements = list(multi_row_values(sql, rows))
    assert len(statements) == 3
    assert all(len(params) <= MAX_PARAMETERS for _, params in statements)
    assert all(sql.endswith("ON CONFLICT DO NOTHING") for sql, _ in statements)
    assert [value for _, params in statements for value in params][::3] == list(range(len(rows)))
