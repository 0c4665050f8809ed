"""The archive repository on a real SQLite file: revisions, papers, authors and look-ups."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest.models import Digest, Paper, SummarySection
from storage import digest_store
from storage import papers as repo
from storage.db import alembic_config, create_engine, current_revision, session_factory, upgrade
from storage.models import DigestEntry, PaperAuthor, StoredDigest, StoredPaper

DAY = dt.date(2024, 1, 3)


def make_paper(arxiv_id: str, title: str, votes: int | None, authors: tuple[str, ...]) -> Paper:
    """A paper as a parser would produce it."""
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        link=f"https://arxiv.org/abs/{arxiv_id}",
        media_url=f"https://cdn.example/{arxiv_id}.png",
        media_kind="image",
        votes=votes,
        authors=authors,
        summary=(SummarySection(title=None, bullets=("첫째", "둘째")),),
        raw=f"### [{title}](https://arxiv.org/abs/{arxiv_id})",
        line=3,
    )


def make_digest(*papers: Paper, day: dt.date = DAY, raw: str | None = None) -> Digest:
    """A Markdown digest of `papers` whose raw text depends on its content."""
    body = raw if raw is not None else "\n".join(p.raw + f" {p.votes}" for p in papers)
    return Digest(date=day, source=f"{day}.md", format="markdown", papers=papers, raw=body)


@pytest.fixture
async def sessions(tmp_path: object) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a freshly upgraded SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path}/archive.sqlite3"
    await upgrade(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


async def store(
    sessions: async_sessionmaker[AsyncSession], digest: Digest
) -> digest_store.StoreResult:
    """Store one digest in its own transaction."""
    async with sessions.begin() as session:
        return await digest_store.store_digest(session, digest=digest, source=digest.source)


async def count(sessions: async_sessionmaker[AsyncSession], model: type[object]) -> int:
    """Rows in a table."""
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_upgrade_reaches_head_and_sqlite_uses_wal(tmp_path: object) -> None:
    """Upgrading twice stamps the head revision; every connection uses WAL with foreign keys on."""
    url = f"sqlite+aiosqlite:///{tmp_path}/nested/folder/db.sqlite3"
    await upgrade(url)
    await upgrade(url)
    assert (
        await current_revision(url)
        == ScriptDirectory.from_config(alembic_config()).get_current_head()
    )
    engine = create_engine(url)
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
        assert (await connection.execute(text("PRAGMA synchronous"))).scalar() == 1
    await engine.dispose()


async def test_store_and_read_back(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A stored digest reads back as the same papers, with duplicate authors dropped."""
    first = make_paper("2401.00001", "First", 48, ("Mathieu Sibue", "Mathieu Sibue", "Łukasz K"))
    second = make_paper("2401.00002", "Second", None, ())
    result = await store(sessions, make_digest(first, second))
    assert (result.status, result.revision, result.papers, result.new_papers) == ("new", 1, 2, 2)
    async with sessions() as session:
        stored = await repo.digest_papers(session, digest_id=result.digest_id or 0)
        info = await repo.digest_for_date(session, date=DAY)
    deduplicated = {"authors": ("Mathieu Sibue", "Łukasz K"), "summary_source": "daily_papers_ko"}
    assert stored[0] == first.model_copy(update=deduplicated)
    assert stored[1] == second.model_copy(update={"summary_source": "daily_papers_ko"})
    assert info is not None
    assert info.revision == 1
    assert info.ingested_at.tzinfo is not None


async def test_unchanged_digest_is_a_no_op(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Storing the same text again reports `unchanged` and writes nothing."""
    digest = make_digest(make_paper("2401.00001", "First", 3, ("A B",)))
    await store(sessions, digest)
    again = await store(sessions, digest)
    assert again.status == "unchanged"
    assert again.revision == 1
    assert await count(sessions, StoredDigest) == 1
    assert await count(sessions, DigestEntry) == 1


async def test_two_sources_that_disagree_about_a_day_settle(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two mirrors with different texts for one day make two revisions, however often the
    pair is ingested again (each used to add one more revision per run)."""
    first = make_digest(make_paper("2401.00001", "Mirror A", 3, ("A B",)))
    second = make_digest(make_paper("2401.00001", "Mirror B", 4, ("A B",)))
    statuses = []
    for _ in range(3):
        for digest, source in ((first, "a/2024-01-03.json"), (second, "b/2024-01-03.json")):
            async with sessions.begin() as session:
                [result] = await digest_store.store_digests(session, digests=[(digest, source)])
            statuses.append((result.status, result.revision))
    assert statuses == [("new", 1), ("revision", 2)] + [("unchanged", 1), ("unchanged", 2)] * 2
    assert await count(sessions, StoredDigest) == 2


async def test_a_source_going_back_to_its_older_text_is_a_revision(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A, B, then A again from one source: the source's newest text is A, so revision 3."""
    older = make_digest(make_paper("2401.00001", "Old", 3, ("A B",)))
    newer = make_digest(make_paper("2401.00001", "New", 4, ("A B",)))
    results = [await store(sessions, digest) for digest in (older, newer, older)]
    assert [(r.status, r.revision) for r in results] == [
        ("new", 1),
        ("revision", 2),
        ("revision", 3),
    ]
    async with sessions() as session:
        paper = await repo.get_paper(session, arxiv_id="2401.00001")
    assert paper is not None
    assert paper.title == "Old"


async def test_changed_digest_becomes_a_revision(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A changed file adds revision 2, updates the paper and keeps revision 1 and its entries."""
    await store(sessions, make_digest(make_paper("2401.00001", "Old", 3, ("A B", "C D"))))
    changed = make_digest(make_paper("2401.00001", "New", 9, ("C D",)))
    result = await store(sessions, changed)
    assert (result.status, result.revision, result.new_papers) == ("revision", 2, 0)
    async with sessions() as session:
        paper = await repo.get_paper(session, arxiv_id="2401.00001")
        revisions = await repo.digest_revisions(session, date=DAY)
        old = await repo.digest_papers(session, digest_id=revisions[0].id)
    assert paper is not None
    assert (paper.title, paper.latest_votes, paper.authors) == ("New", 9, ("C D",))
    assert [(r.revision, r.is_latest) for r in revisions] == [(1, False), (2, True)]
    assert (old[0].title, old[0].votes) == ("Old", 3)
    assert await count(sessions, DigestEntry) == 2


async def test_older_day_does_not_overwrite_newer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Ingesting an earlier day later keeps the newer title and votes but widens first_seen."""
    later = dt.date(2024, 1, 5)
    await store(sessions, make_digest(make_paper("2401.00001", "Later", 20, ("X Y",)), day=later))
    await store(sessions, make_digest(make_paper("2401.00001", "Earlier", 2, ("Q R",))))
    async with sessions() as session:
        paper = await repo.get_paper(session, arxiv_id="2401.00001")
        days = await repo.paper_days(session, arxiv_id="2401.00001")
    assert paper is not None
    assert (paper.title, paper.latest_votes, paper.authors) == ("Later", 20, ("X Y",))
    assert (paper.first_seen, paper.last_seen) == (DAY, later)
    assert [(d.date, d.votes) for d in days] == [(DAY, 2), (later, 20)]


async def test_author_lookups(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Folded queries find authors, most papers first, and list their papers best first."""
    await store(
        sessions,
        make_digest(
            make_paper("2401.00001", "One", 5, ("Tim Rocktäschel", "Łukasz Kaiser")),
            make_paper("2401.00002", "Two", 50, ("Tim Rocktäschel",)),
            make_paper("2401.00003", "Three", None, ("Tim Rocktäschel", "Tim Rock")),
        ),
    )
    async with sessions() as session:
        tims = await repo.find_authors(session, query="tim rock", limit=5)
        lukasz = await repo.find_authors(session, query="Lukasz", limit=5)
        none = await repo.find_authors(session, query="%", limit=5)
        best = await repo.author_papers(session, author_id=tims[0].id)
    assert [(a.name, a.paper_count) for a in tims] == [("Tim Rocktäschel", 3), ("Tim Rock", 1)]
    assert [a.name for a in lukasz] == ["Łukasz Kaiser"]
    assert none == []
    assert [p.arxiv_id for p in best] == ["2401.00002", "2401.00001", "2401.00003"]


async def test_latest_digest_prefers_markdown(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The newest day wins, Markdown over HF JSON on the same day, and `before` is exclusive."""
    paper = make_paper("2401.00001", "One", 1, ())
    await store(sessions, make_digest(paper, day=dt.date(2024, 1, 2)))
    hf = Digest(date=DAY, source="x.json", format="hf_json", papers=(paper,), raw="[]")
    await store(sessions, hf)
    await store(sessions, make_digest(paper))
    async with sessions() as session:
        latest = await repo.latest_digest(session)
        earlier = await repo.latest_digest(session, before=DAY)
        stats = await repo.archive_stats(session)
    assert latest is not None
    assert (latest.date, latest.format) == (DAY, "markdown")
    assert earlier is not None
    assert earlier.date == dt.date(2024, 1, 2)
    assert (stats.days, stats.digests, stats.papers, stats.entries) == (2, 3, 1, 3)


async def test_same_id_twice_in_one_file(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A paper repeated in one file (an appended batch) is stored once, at its first position."""
    one = make_paper("2401.00001", "One", 1, ("A",))
    result = await store(sessions, make_digest(one, make_paper("2401.00001", "Dup", 2, ("B",))))
    assert result.papers == 1
    assert await count(sessions, PaperAuthor) == 1
    assert await count(sessions, StoredPaper) == 1
