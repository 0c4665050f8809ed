"""The archive repository's read side: digests, papers, days and authors as stored (storing
them is storage.digest_store).

Every function is keyword-only, takes the session and never commits: the caller owns the
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Row, Table, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import MediaKind, Paper, SummarySection
from storage.models import (
    Author,
    DigestEntry,
    GeneratedSummary,
    PaperAuthor,
    StoredDigest,
    StoredPaper,
)
from storage.names import normalize_name
from storage.summaries import done_summaries

_T = TypeVar("_T")
_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits
_DIGESTS = cast(Table, StoredDigest.__table__)
_PAPERS = cast(Table, StoredPaper.__table__)
_ENTRIES = cast(Table, DigestEntry.__table__)
_AUTHORS = cast(Table, Author.__table__)
_PAPER_AUTHORS = cast(Table, PaperAuthor.__table__)


@dataclass(frozen=True, slots=True)
class DigestInfo:
    """One stored digest revision, without its raw text."""

    id: int
    date: dt.date
    format: str
    source: str
    revision: int
    content_hash: str
    paper_count: int
    error_count: int
    ingested_at: dt.datetime
    is_latest: bool


@dataclass(frozen=True, slots=True)
class PaperInfo:
    """A paper's latest metadata and author list."""

    arxiv_id: str
    title: str
    link: str
    media_url: str | None
    media_kind: str | None
    abstract: str | None
    authors: tuple[str, ...]
    authors_truncated: bool
    latest_votes: int | None
    first_seen: dt.date
    last_seen: dt.date
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    num_comments: int | None = None
    submitter: str | None = None
    organization: str | None = None


@dataclass(frozen=True, slots=True)
class PaperDay:
    """A day a paper was featured, with that day's vote snapshot and position."""

    date: dt.date
    votes: int | None
    position: int
    digest_id: int
    format: str


@dataclass(frozen=True, slots=True)
class AuthorMatch:
    """An author found by name, with how many archived papers list them."""

    id: int
    name: str
    paper_count: int


@dataclass(frozen=True, slots=True)
class ArchiveStats:
    """Counts over the whole archive."""

    days: int
    digests: int
    revisions: int
    papers: int
    authors: int
    author_links: int
    entries: int
    first_date: dt.date | None
    last_date: dt.date | None


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """Split `items` for IN lists."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _existing_papers(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, Row[Any]]:
    """Stored paper rows for `ids`, keyed by arXiv id."""
    found: dict[str, Row[Any]] = {}
    for chunk in _chunks(ids):
        rows = await session.execute(select(_PAPERS).where(_PAPERS.c.arxiv_id.in_(chunk)))
        found.update((row.arxiv_id, row) for row in rows)
    return found


def _digest_info(row: Row[Any]) -> DigestInfo:
    """A `DigestInfo` from a digests row."""
    return DigestInfo(
        id=row.id,
        date=row.date,
        format=row.format,
        source=row.source,
        revision=row.revision,
        content_hash=row.content_hash,
        paper_count=row.paper_count,
        error_count=row.error_count,
        ingested_at=row.ingested_at,
        is_latest=row.is_latest,
    )


_INFO_COLUMNS = [column for column in _DIGESTS.columns if column.name != "raw_text"]
# Markdown is the richer format, so it wins over HF JSON for the same day.
_FORMAT_RANK = case((_DIGESTS.c.format == "markdown", 0), else_=1)


async def latest_digest(
    session: AsyncSession, *, before: dt.date | None = None
) -> DigestInfo | None:
    """The latest revision of the newest day (strictly before `before` when given)."""
    query = select(*_INFO_COLUMNS).where(_DIGESTS.c.is_latest.is_(True))
    if before is not None:
        query = query.where(_DIGESTS.c.date < before)
    query = query.order_by(_DIGESTS.c.date.desc(), _FORMAT_RANK).limit(1)
    row = (await session.execute(query)).first()
    return _digest_info(row) if row else None


async def digest_for_date(session: AsyncSession, *, date: dt.date) -> DigestInfo | None:
    """The latest revision of `date`'s digest (Markdown preferred), or None."""
    query = (
        select(*_INFO_COLUMNS)
        .where(_DIGESTS.c.is_latest.is_(True), _DIGESTS.c.date == date)
        .order_by(_FORMAT_RANK)
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return _digest_info(row) if row else None


async def latest_revisions(session: AsyncSession, *, date: dt.date) -> list[DigestInfo]:
    """The latest revision of each format of `date` (Markdown first)."""
    query = (
        select(*_INFO_COLUMNS)
        .where(_DIGESTS.c.is_latest.is_(True), _DIGESTS.c.date == date)
        .order_by(_FORMAT_RANK)
    )
    return [_digest_info(row) for row in await session.execute(query)]


async def held_revisions(session: AsyncSession) -> list[DigestInfo]:
    """Revisions held back (stored, never made current): newer than their day's current
    revision of the same format, because they would have lost most of its papers."""
    current = _DIGESTS.alias("current")
    newer = (
        select(current.c.id)
        .where(
            current.c.date == _DIGESTS.c.date,
            current.c.format == _DIGESTS.c.format,
            current.c.is_latest.is_(True),
            current.c.revision < _DIGESTS.c.revision,
        )
        .exists()
    )
    query = (
        select(*_INFO_COLUMNS)
        .where(_DIGESTS.c.is_latest.is_(False), newer)
        .order_by(_DIGESTS.c.date.desc(), _DIGESTS.c.revision.desc())
    )
    return [_digest_info(row) for row in await session.execute(query)]


async def revision_ids(session: AsyncSession, *, digest_id: int) -> list[str]:
    """The arXiv ids of a stored revision, in file order."""
    query = (
        select(_ENTRIES.c.arxiv_id)
        .where(_ENTRIES.c.digest_id == digest_id)
        .order_by(_ENTRIES.c.position)
    )
    return list(await session.scalars(query))


async def digest_revisions(session: AsyncSession, *, date: dt.date) -> list[DigestInfo]:
    """Every stored revision of `date`, oldest first."""
    query = (
        select(*_INFO_COLUMNS)
        .where(_DIGESTS.c.date == date)
        .order_by(_FORMAT_RANK, _DIGESTS.c.revision)
    )
    return [_digest_info(row) for row in await session.execute(query)]


async def digest_text(session: AsyncSession, *, digest_id: int) -> str | None:
    """The full raw text of a stored revision."""
    query = select(_DIGESTS.c.raw_text).where(_DIGESTS.c.id == digest_id)
    return (await session.execute(query)).scalar_one_or_none()


async def _authors_of(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Ordered author names of each paper in `ids`."""
    found: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        query = (
            select(_PAPER_AUTHORS.c.arxiv_id, _AUTHORS.c.name)
            .join(_AUTHORS, _AUTHORS.c.id == _PAPER_AUTHORS.c.author_id)
            .where(_PAPER_AUTHORS.c.arxiv_id.in_(chunk))
            .order_by(_PAPER_AUTHORS.c.arxiv_id, _PAPER_AUTHORS.c.position)
        )
        for row in await session.execute(query):
            found.setdefault(row.arxiv_id, []).append(row.name)
    return {arxiv_id: tuple(names) for arxiv_id, names in found.items()}


def _summary(value: Any) -> tuple[SummarySection, ...]:
    """Summary sections back from their JSON form."""
    return tuple(
        SummarySection(title=part.get("title"), bullets=tuple(part.get("bullets", ())))
        for part in value or ()
    )


HF_COLUMNS = (
    "ai_summary",
    "ai_keywords",
    "github_repo",
    "github_stars",
    "project_page",
    "num_comments",
    "submitter",
    "organization",
)
_PAPER_EXTRAS = [_PAPERS.c[name] for name in ("link", "media_url", "media_kind", *HF_COLUMNS)]
MARKDOWN_SOURCE = "daily_papers_ko"  # provenance of a summary a Markdown digest gave


async def _entry_rows(session: AsyncSession, *, digest_id: int) -> list[Row[Any]]:
    """A revision's entries joined with their papers rows, in file order."""
    query = (
        select(_ENTRIES, *_PAPER_EXTRAS)
        .add_columns(_PAPERS.c.abstract, _PAPERS.c.authors_truncated, _PAPERS.c.latest_votes)
        .join(_PAPERS, _PAPERS.c.arxiv_id == _ENTRIES.c.arxiv_id)
        .where(_ENTRIES.c.digest_id == digest_id)
        .order_by(_ENTRIES.c.position)
    )
    return list((await session.execute(query)).all())


def _entry_paper(row: Row[Any], authors: tuple[str, ...], *, votes: int | None) -> Paper:
    """A `Paper` from an entry row joined with its papers row."""
    summary = _summary(row.summary)
    return Paper(
        arxiv_id=row.arxiv_id,
        title=row.title,
        link=row.link,
        media_url=row.media_url,
        media_kind=cast(MediaKind | None, row.media_kind),
        votes=votes,
        authors=authors,
        authors_truncated=row.authors_truncated,
        summary=summary,
        abstract=row.abstract,
        raw=row.raw_block,
        line=row.line,
        summary_source=MARKDOWN_SOURCE if summary else None,
        **_hf_fields(row),
    )


async def digest_papers(session: AsyncSession, *, digest_id: int) -> list[Paper]:
    """The papers of a stored revision in file order, with that revision's votes."""
    rows = await _entry_rows(session, digest_id=digest_id)
    authors = await _authors_of(session, ids=[row.arxiv_id for row in rows])
    return [_entry_paper(row, authors.get(row.arxiv_id, ()), votes=row.votes) for row in rows]


async def day_papers(session: AsyncSession, *, date: dt.date) -> list[Paper]:
    """A day's papers as chats get them: every source of the day merged by arXiv id.

    The HF list (complete, timely) gives the order, the Markdown digest adds its papers and
    its Korean summaries (`daily_papers_ko`); a paper with neither gets paperboy's generated
    summary when there is one (`generated:<model>`). Votes are the latest known (they keep
    moving for days), the revision's own where the paper has none.
    """
    latest = (
        select(_DIGESTS.c.id, _DIGESTS.c.format)
        .where(_DIGESTS.c.is_latest.is_(True), _DIGESTS.c.date == date)
        .order_by(_FORMAT_RANK.desc())  # hf_json first
    )
    merged: dict[str, Row[Any]] = {}
    summaries: dict[str, tuple[SummarySection, ...]] = {}
    for digest in (await session.execute(latest)).all():
        for row in await _entry_rows(session, digest_id=digest.id):
            merged.setdefault(row.arxiv_id, row)
            if digest.format == "markdown" and row.summary:
                merged[row.arxiv_id] = row  # the Markdown block: its title, bullets and raw
                summaries[row.arxiv_id] = _summary(row.summary)
    ids = list(merged)
    authors = await _authors_of(session, ids=ids)
    generated = await done_summaries(session, arxiv_ids=[i for i in ids if i not in summaries])
    papers = []
    for arxiv_id, row in merged.items():
        votes = row.latest_votes if row.latest_votes is not None else row.votes
        paper = _entry_paper(row, authors.get(arxiv_id, ()), votes=votes)
        if arxiv_id in generated and not paper.summary:
            sections, model = generated[arxiv_id]
            paper = paper.model_copy(
                update={"summary": sections, "summary_source": f"generated:{model}"}
            )
        papers.append(paper)
    return papers


def _paper_info(row: Row[Any], authors: tuple[str, ...]) -> PaperInfo:
    """A `PaperInfo` from a papers row and its authors."""
    return PaperInfo(
        arxiv_id=row.arxiv_id,
        title=row.title,
        link=row.link,
        media_url=row.media_url,
        media_kind=row.media_kind,
        abstract=row.abstract,
        authors=authors,
        authors_truncated=row.authors_truncated,
        latest_votes=row.latest_votes,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        **_hf_fields(row),
    )


def _hf_fields(row: Row[Any]) -> dict[str, Any]:
    """What the HF list added to a papers row (migration 0008), keywords as a tuple."""
    fields = {name: getattr(row, name) for name in HF_COLUMNS}
    fields["ai_keywords"] = tuple(row.ai_keywords or ())
    return fields


async def get_paper(session: AsyncSession, *, arxiv_id: str) -> PaperInfo | None:
    """One paper's latest metadata and authors, or None when it was never archived."""
    row = (await session.execute(select(_PAPERS).where(_PAPERS.c.arxiv_id == arxiv_id))).first()
    if row is None:
        return None
    authors = await _authors_of(session, ids=[arxiv_id])
    return _paper_info(row, authors.get(arxiv_id, ()))


async def get_papers(session: AsyncSession, *, arxiv_ids: Sequence[str]) -> list[PaperInfo]:
    """Several papers in the order asked (unknown ids are left out)."""
    rows: dict[str, Row[Any]] = await _existing_papers(session, ids=list(arxiv_ids))
    authors = await _authors_of(session, ids=list(rows))
    return [_paper_info(rows[i], authors.get(i, ())) for i in arxiv_ids if i in rows]


async def paper_days(session: AsyncSession, *, arxiv_id: str) -> list[PaperDay]:
    """The days a paper was featured (latest revisions; Markdown preferred), oldest first."""
    query = (
        select(_DIGESTS.c.date, _DIGESTS.c.format, _DIGESTS.c.id, _ENTRIES.c.votes)
        .add_columns(_ENTRIES.c.position)
        .join(_DIGESTS, _DIGESTS.c.id == _ENTRIES.c.digest_id)
        .where(_ENTRIES.c.arxiv_id == arxiv_id, _DIGESTS.c.is_latest.is_(True))
        .order_by(_DIGESTS.c.date, _FORMAT_RANK)
    )
    days: dict[dt.date, PaperDay] = {}
    for row in await session.execute(query):
        days.setdefault(row.date, PaperDay(row.date, row.votes, row.position, row.id, row.format))
    return list(days.values())


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def find_authors(session: AsyncSession, *, query: str, limit: int = 10) -> list[AuthorMatch]:
    """Authors whose folded name contains the folded `query`, most papers first."""
    needle = normalize_name(query)
    if not needle:
        return []
    papers = func.count(_PAPER_AUTHORS.c.arxiv_id).label("papers")
    prefix_rank = case((_AUTHORS.c.normalized.startswith(needle, autoescape=True), 0), else_=1)
    statement = (
        select(_AUTHORS.c.id, _AUTHORS.c.name, papers)
        .join(_PAPER_AUTHORS, _PAPER_AUTHORS.c.author_id == _AUTHORS.c.id)
        .where(_AUTHORS.c.normalized.like(_like_pattern(needle), escape="\\"))
        .group_by(_AUTHORS.c.id, _AUTHORS.c.name, _AUTHORS.c.normalized)
        .order_by(papers.desc(), prefix_rank, _AUTHORS.c.name)
        .limit(limit)
    )
    return [AuthorMatch(row.id, row.name, row.papers) for row in await session.execute(statement)]


async def author_papers(
    session: AsyncSession,
    *,
    author_id: int | None = None,
    author_ids: Sequence[int] = (),
    limit: int | None = None,
) -> list[PaperInfo]:
    """An author's archived papers, best first: most votes, then most recent.

    `author_ids` lists several spellings of one person (`Björn Ommer`, `Bjorn Ommer`): their
    papers together, each once.
    """
    ids = [*author_ids, *([] if author_id is None else [author_id])]
    listed = select(_PAPER_AUTHORS.c.arxiv_id).where(_PAPER_AUTHORS.c.author_id.in_(ids))
    query = (
        select(_PAPERS)
        .where(_PAPERS.c.arxiv_id.in_(listed))
        .order_by(
            case((_PAPERS.c.latest_votes.is_(None), 1), else_=0),
            _PAPERS.c.latest_votes.desc(),
            _PAPERS.c.last_seen.desc(),
            _PAPERS.c.arxiv_id,
        )
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    authors = await _authors_of(session, ids=[row.arxiv_id for row in rows])
    return [_paper_info(row, authors.get(row.arxiv_id, ())) for row in rows]


async def archive_stats(session: AsyncSession) -> ArchiveStats:
    """Counts over the archive: days, digests, revisions, papers, authors, links, entries."""
    latest = _DIGESTS.c.is_latest.is_(True)
    digests = select(
        func.count(func.distinct(_DIGESTS.c.date)),
        func.count().filter(latest),
        func.count(),
        func.min(_DIGESTS.c.date),
        func.max(_DIGESTS.c.date),
    )
    days, current, revisions, first, last = (await session.execute(digests)).one()
    papers, authors, links, entries = [
        (await session.execute(select(func.count()).select_from(table))).scalar_one()
        for table in (_PAPERS, _AUTHORS, _PAPER_AUTHORS, _ENTRIES)
    ]
    return ArchiveStats(days, current, revisions, papers, authors, links, entries, first, last)


async def archive_version(session: AsyncSession) -> int:
    """A number that changes whenever the archive does: every stored digest (or revision) is a
    new row, papers only change with one, and a generated summary is a new `done` row (votes
    moving alone do not count: cached answers show them within their TTL). 0 when empty."""
    digests = int(await session.scalar(select(func.max(_DIGESTS.c.id))) or 0)
    done = (
        select(func.count()).select_from(GeneratedSummary).where(GeneratedSummary.state == "done")
    )
    return digests + (int(await session.scalar(done) or 0) << 40)
