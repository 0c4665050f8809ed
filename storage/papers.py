"""The archive repository: store parsed digests as revisions and read papers, days and authors.

Every function is keyword-only, takes the session and never commits: the caller owns the
transaction. The write path uses bulk Core statements (no ORM unit of work per row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import Row, Table, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Digest, MediaKind, Paper, SummarySection
from storage.models import Author, DigestEntry, PaperAuthor, StoredDigest, StoredPaper
from storage.names import normalize_name

StoreStatus = Literal["new", "revision", "unchanged"]
_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits
_DIGESTS = cast(Table, StoredDigest.__table__)
_PAPERS = cast(Table, StoredPaper.__table__)
_ENTRIES = cast(Table, DigestEntry.__table__)
_AUTHORS = cast(Table, Author.__table__)
_PAPER_AUTHORS = cast(Table, PaperAuthor.__table__)


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What `store_digest` did with one digest."""

    digest_id: int | None
    revision: int
    status: StoreStatus
    papers: int
    new_papers: int


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


def content_hash(raw: str) -> str:
    """The sha256 of a digest's raw text, as stored in `digests.content_hash`."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """Split `items` for IN lists."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _upsert(session: AsyncSession, table: Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _unique_papers(papers: Iterable[Paper]) -> list[Paper]:
    """Papers in file order, keeping the first block when an id appears twice in one file."""
    seen: dict[str, Paper] = {}
    for paper in papers:
        seen.setdefault(paper.arxiv_id, paper)
    return list(seen.values())


def _unique_names(names: Iterable[str]) -> list[str]:
    """Author names in order without repeats or blanks (digests list some names twice)."""
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


async def _latest_revision(session: AsyncSession, *, digest: Digest) -> Any:
    """The newest stored revision (id, revision, content_hash) of this date and format."""
    query = (
        select(_DIGESTS.c.id, _DIGESTS.c.revision, _DIGESTS.c.content_hash)
        .where(_DIGESTS.c.date == digest.date, _DIGESTS.c.format == digest.format)
        .order_by(_DIGESTS.c.revision.desc())
        .limit(1)
    )
    return (await session.execute(query)).first()


async def _insert_revision(
    session: AsyncSession,
    *,
    digest: Digest,
    source: str,
    revision: int,
    papers: int,
    now: dt.datetime,
) -> int:
    """Move `is_latest` to a new digests row and return its id."""
    if revision > 1:
        await session.execute(
            update(_DIGESTS)
            .where(_DIGESTS.c.date == digest.date, _DIGESTS.c.format == digest.format)
            .where(_DIGESTS.c.is_latest.is_(True))
            .values(is_latest=False)
        )
    row = {
        "date": digest.date,
        "format": digest.format,
        "source": source,
        "revision": revision,
        "content_hash": content_hash(digest.raw),
        "raw_text": digest.raw,
        "paper_count": papers,
        "error_count": len(digest.errors),
        "ingested_at": now,
        "is_latest": True,
    }
    result = await session.execute(insert(_DIGESTS).values(row).returning(_DIGESTS.c.id))
    return int(result.scalar_one())


async def _existing_papers(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, Row[Any]]:
    """Stored paper rows for `ids`, keyed by arXiv id."""
    found: dict[str, Row[Any]] = {}
    for chunk in _chunks(ids):
        rows = await session.execute(select(_PAPERS).where(_PAPERS.c.arxiv_id.in_(chunk)))
        found.update((row.arxiv_id, row) for row in rows)
    return found


async def _existing_with_authors(
    session: AsyncSession, *, ids: Sequence[str]
) -> tuple[dict[str, Row[Any]], set[str]]:
    """Stored paper rows for `ids`, and which of them have an author list (one query a chunk)."""
    has_authors = (
        select(_PAPER_AUTHORS.c.arxiv_id)
        .where(_PAPER_AUTHORS.c.arxiv_id == _PAPERS.c.arxiv_id)
        .exists()
        .label("has_authors")
    )
    found: dict[str, Row[Any]] = {}
    for chunk in _chunks(ids):
        query = select(_PAPERS, has_authors).where(_PAPERS.c.arxiv_id.in_(chunk))
        found.update((row.arxiv_id, row) for row in await session.execute(query))
    return found, {arxiv_id for arxiv_id, row in found.items() if row.has_authors}


def _pick(newer: bool, new: Any, old: Any) -> Any:
    """A nullable field: the newer day's value when it has one, else whatever is known."""
    if newer and new is not None:
        return new
    return old if old is not None else new


def _merged_paper(
    paper: Paper, *, old: Row[Any] | None, day: dt.date, now: dt.datetime, replace_authors: bool
) -> dict[str, Any]:
    """The papers row after seeing `paper` on `day`: newer days win, unknowns never erase."""
    newer = old is None or day >= old.last_seen
    keep_media = not (newer and paper.media_url) and old is not None and old.media_url
    return {
        "arxiv_id": paper.arxiv_id,
        "title": paper.title if newer or old is None else old.title,
        "link": paper.link if newer or old is None else old.link,
        "media_url": old.media_url if keep_media and old is not None else paper.media_url,
        "media_kind": old.media_kind if keep_media and old is not None else paper.media_kind,
        "abstract": _pick(newer, paper.abstract, old.abstract if old else None),
        "authors_truncated": (
            paper.authors_truncated if replace_authors or old is None else old.authors_truncated
        ),
        "latest_votes": _pick(newer, paper.votes, old.latest_votes if old else None),
        "first_seen": min(day, old.first_seen) if old else day,
        "last_seen": max(day, old.last_seen) if old else day,
        "updated_at": now,
    }


async def _upsert_papers(session: AsyncSession, *, rows: list[dict[str, Any]]) -> None:
    """Insert or overwrite papers rows (values were merged in Python beforehand)."""
    statement = _upsert(session, _PAPERS)
    columns = [column.name for column in _PAPERS.columns if column.name != "arxiv_id"]
    statement = statement.on_conflict_do_update(
        index_elements=[_PAPERS.c.arxiv_id],
        set_={name: statement.excluded[name] for name in columns},
    )
    await session.execute(statement, rows)


def _entry_row(digest_id: int, position: int, paper: Paper) -> dict[str, Any]:
    """The digest_entries row of one paper in one revision."""
    summary = [{"title": part.title, "bullets": list(part.bullets)} for part in paper.summary]
    return {
        "digest_id": digest_id,
        "arxiv_id": paper.arxiv_id,
        "position": position,
        "votes": paper.votes,
        "title": paper.title,
        "summary": summary,
        "raw_block": paper.raw,
        "line": paper.line,
    }


async def _author_ids(session: AsyncSession, *, names: Sequence[str]) -> dict[str, int]:
    """Ids for `names`, creating missing authors, in one upsert that returns every id."""
    statement = _upsert(session, _AUTHORS)
    # A no-op update (not DO NOTHING) so RETURNING also yields the rows that already exist.
    statement = statement.on_conflict_do_update(
        index_elements=[_AUTHORS.c.name], set_={"name": statement.excluded.name}
    ).returning(_AUTHORS.c.id, _AUTHORS.c.name)
    rows = [{"name": name, "normalized": normalize_name(name)} for name in names]
    result = await session.execute(statement, rows)
    return {row.name: row.id for row in result}


async def _replace_authors(
    session: AsyncSession, *, lists: dict[str, list[str]], stale: Sequence[str]
) -> None:
    """Make `lists` the author lists of their papers; `stale` ids have an old list to drop."""
    if not lists:
        return
    names = list(dict.fromkeys(name for names in lists.values() for name in names))
    ids = await _author_ids(session, names=names)
    for chunk in _chunks(stale):
        await session.execute(delete(_PAPER_AUTHORS).where(_PAPER_AUTHORS.c.arxiv_id.in_(chunk)))
    rows = [
        {"arxiv_id": arxiv_id, "position": position, "author_id": ids[name]}
        for arxiv_id, names_ in lists.items()
        for position, name in enumerate(names_)
    ]
    await session.execute(insert(_PAPER_AUTHORS), rows)


async def store_digest(
    session: AsyncSession, *, digest: Digest, source: str, now: dt.datetime | None = None
) -> StoreResult:
    """Store `digest` as a new revision of its day, unless it equals the latest revision."""
    papers = _unique_papers(digest.papers)
    latest = await _latest_revision(session, digest=digest)
    if latest is not None and latest.content_hash == content_hash(digest.raw):
        return StoreResult(latest.id, latest.revision, "unchanged", len(papers), 0)
    now = now or dt.datetime.now(dt.UTC)
    revision = 1 if latest is None else latest.revision + 1
    digest_id = await _insert_revision(
        session, digest=digest, source=source, revision=revision, papers=len(papers), now=now
    )
    ids = [paper.arxiv_id for paper in papers]
    existing, with_authors = await _existing_with_authors(session, ids=ids)
    rows: list[dict[str, Any]] = []
    lists: dict[str, list[str]] = {}
    for paper in papers:
        old = existing.get(paper.arxiv_id)
        names = _unique_names(paper.authors)
        newer = old is None or digest.date >= old.last_seen
        replace = bool(names) and (newer or paper.arxiv_id not in with_authors)
        if replace:
            lists[paper.arxiv_id] = names
        rows.append(
            _merged_paper(paper, old=old, day=digest.date, now=now, replace_authors=replace)
        )
    if rows:
        await _upsert_papers(session, rows=rows)
        entries = [_entry_row(digest_id, position, paper) for position, paper in enumerate(papers)]
        await session.execute(insert(_ENTRIES), entries)
    stale = [arxiv_id for arxiv_id in lists if arxiv_id in with_authors]
    await _replace_authors(session, lists=lists, stale=stale)
    status: StoreStatus = "new" if latest is None else "revision"
    return StoreResult(digest_id, revision, status, len(papers), len(papers) - len(existing))


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


async def digest_papers(session: AsyncSession, *, digest_id: int) -> list[Paper]:
    """The papers of a stored revision in file order, rebuilt as `Paper` models."""
    query = (
        select(_ENTRIES, _PAPERS.c.link, _PAPERS.c.media_url, _PAPERS.c.media_kind)
        .add_columns(_PAPERS.c.abstract, _PAPERS.c.authors_truncated)
        .join(_PAPERS, _PAPERS.c.arxiv_id == _ENTRIES.c.arxiv_id)
        .where(_ENTRIES.c.digest_id == digest_id)
        .order_by(_ENTRIES.c.position)
    )
    rows = (await session.execute(query)).all()
    authors = await _authors_of(session, ids=[row.arxiv_id for row in rows])
    return [
        Paper(
            arxiv_id=row.arxiv_id,
            title=row.title,
            link=row.link,
            media_url=row.media_url,
            media_kind=cast(MediaKind | None, row.media_kind),
            votes=row.votes,
            authors=authors.get(row.arxiv_id, ()),
            authors_truncated=row.authors_truncated,
            summary=_summary(row.summary),
            abstract=row.abstract,
            raw=row.raw_block,
            line=row.line,
        )
        for row in rows
    ]


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
    )


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
    session: AsyncSession, *, author_id: int, limit: int | None = None
) -> list[PaperInfo]:
    """An author's archived papers, best first: most votes, then most recent."""
    query = (
        select(_PAPERS)
        .join(_PAPER_AUTHORS, _PAPER_AUTHORS.c.arxiv_id == _PAPERS.c.arxiv_id)
        .where(_PAPER_AUTHORS.c.author_id == author_id)
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
