"""Batched storing (`store_digests`) writes exactly what storing digests one by one writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest.models import Digest, Paper
from storage import digest_store
from storage import papers as repo
from storage.db import create_engine, session_factory, upgrade

DAY = dt.date(2024, 1, 3)
LATER = dt.date(2024, 1, 5)
EARLIER = dt.date(2024, 1, 1)
NOW = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)


def paper(arxiv_id: str, title: str, votes: int | None, authors: tuple[str, ...]) -> Paper:
    """A paper as a parser would produce it."""
    link = f"https://arxiv.org/abs/{arxiv_id}"
    return Paper(arxiv_id=arxiv_id, title=title, link=link, votes=votes, authors=authors, line=1)


def digest(day: dt.date, *papers: Paper) -> Digest:
    """A Markdown digest whose raw text depends on its content."""
    raw = "\n".join(f"{p.arxiv_id} {p.title} {p.votes} {p.authors}" for p in papers)
    return Digest(date=day, source=f"{day}.md", format="markdown", papers=papers, raw=raw)


def history() -> list[Digest]:
    """Days out of order, a day revised, a repeated file and author lists that change."""
    first = digest(DAY, paper("1", "One", 3, ("Ann", "Bo")), paper("2", "Two", None, ()))
    return [
        first,
        digest(LATER, paper("1", "One v2", 9, ("Bo",)), paper("3", "Three", 1, ("Cy", "Ann"))),
        digest(DAY, paper("1", "One", 4, ("Ann", "Bo")), paper("2", "Two", 2, ("Di",))),
        first,
        digest(EARLIER, paper("3", "Three v0", 7, ("Ed",)), paper("4", "Four", 5, ("Ann",))),
        digest(LATER, paper("1", "One v3", 10, ("Bo", "Fay"))),
    ]


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Two freshly upgraded SQLite files."""
    engines = []
    for name in ("one", "batch"):
        url = f"sqlite+aiosqlite:///{tmp_path}/{name}.sqlite3"
        await upgrade(url)
        engines.append(create_engine(url))
    yield [session_factory(engine) for engine in engines]
    for engine in engines:
        await engine.dispose()


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Everything the read side can see about the archive, ids left out."""
    async with sessions() as session:
        papers = await repo.get_papers(session, arxiv_ids=["1", "2", "3", "4"])
        days = [await repo.paper_days(session, arxiv_id=p.arxiv_id) for p in papers]
        revisions = [await repo.digest_revisions(session, date=d) for d in (EARLIER, DAY, LATER)]
        ann = await repo.find_authors(session, query="ann")
        stats = await repo.archive_stats(session)
    return {
        "papers": papers,
        "days": [[(d.date, d.votes, d.position) for d in day] for day in days],
        "revisions": [[(r.revision, r.is_latest, r.paper_count) for r in rs] for rs in revisions],
        "ann": [(a.name, a.paper_count) for a in ann],
        "stats": stats,
    }


async def test_batch_matches_one_by_one(two: list[async_sessionmaker[AsyncSession]]) -> None:
    """One batch of a tangled history leaves the same archive and results as one-by-one stores."""
    one, batch = two
    singles = []
    for item in history():
        async with one.begin() as session:
            singles.append(
                await digest_store.store_digest(session, digest=item, source="s", now=NOW)
            )
    async with batch.begin() as session:
        pairs = [(item, "s") for item in history()]
        batched = await digest_store.store_digests(session, digests=pairs, now=NOW)
    assert [(r.status, r.revision, r.papers, r.new_papers) for r in batched] == [
        (r.status, r.revision, r.papers, r.new_papers) for r in singles
    ]
    assert [r.status for r in batched] == ["new", "new", "revision", "revision", "new", "revision"]
    assert await snapshot(batch) == await snapshot(one)


async def test_cache_spans_transactions(two: list[async_sessionmaker[AsyncSession]]) -> None:
    """A cache shared by two transactions links later papers to the authors made earlier."""
    _, sessions = two
    cache = digest_store.StoreCache()
    items = history()
    for part in (items[:2], items[2:]):
        async with sessions.begin() as session:
            await digest_store.store_digests(session, digests=[(d, "s") for d in part], cache=cache)
    # "Ed" never becomes an author: paper 3 already has a list from a newer day.
    assert set(cache.author_ids) == {"Ann", "Bo", "Cy", "Di", "Fay"}
    async with sessions() as session:
        [ann] = await repo.find_authors(session, query="ann")
        papers = await repo.author_papers(session, author_id=ann.id)
    assert ann.id == cache.author_ids["Ann"]
    assert sorted(p.arxiv_id for p in papers) == ["3", "4"]


async def test_unchanged_batch_writes_nothing(two: list[async_sessionmaker[AsyncSession]]) -> None:
    """Storing a batch again reports every digest unchanged with its stored id and revision."""
    _, sessions = two
    pairs = [(d, "s") for d in history()]
    async with sessions.begin() as session:
        first = await digest_store.store_digests(session, digests=pairs)
    async with sessions.begin() as session:
        again = await digest_store.store_digests(session, digests=pairs[-2:])
        stats = await repo.archive_stats(session)
    assert [(r.status, r.digest_id) for r in again] == [
        ("unchanged", first[-2].digest_id),
        ("unchanged", first[-1].digest_id),
    ]
    assert stats.revisions == 6
