"""Storing parsed digests as revisions of their day: a batch is merged in Python, then written
with bulk Core statements (no ORM unit of work per row); the caller commits."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Digest, Paper
from storage.bulk import insert_many
from storage.models import Author, DigestEntry, PaperAuthor, StoredDigest, StoredPaper
from storage.names import normalize_name
from storage.search_index import IndexSource, entry_texts, index_papers

StoreStatus = Literal["new", "revision", "unchanged", "held"]
_T = TypeVar("_T")
_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits
_DIGESTS = cast(Table, StoredDigest.__table__)
_PAPERS = cast(Table, StoredPaper.__table__)
_ENTRIES = cast(Table, DigestEntry.__table__)
_AUTHORS = cast(Table, Author.__table__)
_PAPER_AUTHORS = cast(Table, PaperAuthor.__table__)
_PAPER_COLUMNS = tuple(column.name for column in _PAPERS.columns)  # arxiv_id first
_ENTRY_COLUMNS = tuple(column.name for column in _ENTRIES.columns)  # digest_id first


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What `store_digest` did with one digest.

    `held`: stored as a revision that is not current, because it has fewer than half the
    papers of the current revision of its day and format (a truncated or heading-only file);
    `current_papers` is how many the current revision has.
    """

    digest_id: int | None
    revision: int
    status: StoreStatus
    papers: int
    new_papers: int
    current_papers: int | None = None


def loses_most(*, current: int, new: int) -> bool:
    """Whether a revision of `new` papers would lose most of the `current` revision's papers."""
    return current > 0 and new * 2 < current


def content_hash(raw: str) -> str:
    """The sha256 of a digest's raw text, as stored in `digests.content_hash`."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
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


@dataclass(slots=True)
class StoreCache:
    """Author ids known to exist, shared by the transactions of one ingest run.

    Only author ids are kept across transactions: authors are never renamed or deleted, so a
    committed id stays right whatever other writers do. Papers and revisions are re-read in
    every transaction (one query each per batch), so concurrent writers are never overwritten
    from stale copies. After a rollback call `clear()`: ids made by that transaction are gone.
    """

    author_ids: dict[str, int] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget everything (after a rollback)."""
        self.author_ids.clear()


@dataclass(slots=True)
class _Revision:
    """A revision of one (date, format): stored (`id`) or pending (`pending`)."""

    revision: int
    content_hash: str
    id: int | None = None
    pending: int | None = None
    papers: int = 0


@dataclass(slots=True)
class _Batch:
    """What a batch of digests will write, merged in Python so each table gets one statement."""

    now: dt.datetime
    latest: dict[tuple[dt.date, str], _Revision]  # the current revisions (`is_latest`)
    by_source: dict[tuple[dt.date, str, str], _Revision]
    top: dict[tuple[dt.date, str], int]  # the highest revision number, held ones included
    papers: dict[str, dict[str, Any]]
    with_authors: set[str]
    stored_authors: frozenset[str]
    stored_papers: frozenset[str]
    digests: list[dict[str, Any]] = field(default_factory=list)
    entries: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    changed: dict[str, None] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    retired: set[tuple[dt.date, str]] = field(default_factory=set)


async def _latest_revisions(
    session: AsyncSession, *, keys: set[tuple[dt.date, str]], now: dt.datetime
) -> _Batch:
    """An empty batch knowing, for each (date, format) in `keys`, the current revision, the
    newest one of each source and the highest revision number: one query per chunk."""
    batch = _Batch(now, {}, {}, {}, {}, set(), frozenset(), frozenset())
    columns = (_DIGESTS.c.date, _DIGESTS.c.format, _DIGESTS.c.id, _DIGESTS.c.revision)
    extra = (_DIGESTS.c.content_hash, _DIGESTS.c.source, _DIGESTS.c.paper_count)
    for chunk in _chunks(sorted({date for date, _ in keys})):
        query = select(*columns, *extra, _DIGESTS.c.is_latest).where(_DIGESTS.c.date.in_(chunk))
        for row in await session.execute(query):
            key = (row.date, row.format)
            if key not in keys:
                continue
            revision = _Revision(row.revision, row.content_hash, id=row.id, papers=row.paper_count)
            if row.is_latest:
                batch.latest[key] = revision
            batch.top[key] = max(batch.top.get(key, 0), row.revision)
            mine = batch.by_source.get(sourced := (*key, row.source))
            if mine is None or row.revision > mine.revision:
                batch.by_source[sourced] = revision
    return batch


def _stored_as(batch: _Batch, digest: Digest, source: str) -> _Revision | None:
    """The stored revision `digest` repeats, if any: the day's newest one, or the newest one
    from the same source.

    The second rule lets two sources that disagree about a day (two mirrors of one API)
    be ingested again and again without a new revision each time, while a source that goes
    back to an older text of its own (A, B, then A again) still makes a revision.
    """
    key = (digest.date, digest.format)
    digest_hash = content_hash(digest.raw)
    for revision in (batch.latest.get(key), batch.by_source.get((*key, source))):
        if revision is not None and revision.content_hash == digest_hash:
            return revision
    return None


def _repeats(batch: _Batch, digest: Digest, source: str) -> tuple[_Revision | None, bool]:
    """The stored revision `digest` repeats (`_stored_as`), and whether that one is held: newer
    than its day's current revision."""
    stored = _stored_as(batch, digest, source)
    current = batch.latest.get((digest.date, digest.format))
    held = stored is not None and current is not None and stored.revision > current.revision
    return stored, held


def _may_write(batch: _Batch, digest: Digest, source: str) -> bool:
    """Whether storing `digest` may write its papers: it repeats no stored revision, or only
    a held one (which `force` makes current)."""
    stored, held = _repeats(batch, digest, source)
    return stored is None or held


async def _existing_with_authors(
    session: AsyncSession, *, ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Stored paper rows for `ids`, and which of them have an author list (one query a chunk)."""
    has_authors = (
        select(_PAPER_AUTHORS.c.arxiv_id)
        .where(_PAPER_AUTHORS.c.arxiv_id == _PAPERS.c.arxiv_id)
        .exists()
        .label("has_authors")
    )
    found: dict[str, dict[str, Any]] = {}
    with_authors: set[str] = set()
    for chunk in _chunks(ids):
        query = select(_PAPERS, has_authors).where(_PAPERS.c.arxiv_id.in_(chunk))
        for row in await session.execute(query):
            values = dict(row._mapping)
            if values.pop("has_authors"):
                with_authors.add(row.arxiv_id)
            found[row.arxiv_id] = values
    return found, with_authors


def _pick(newer: bool, new: Any, old: Any) -> Any:
    """A nullable field: the newer day's value when it has one, else whatever is known."""
    if newer and new is not None:
        return new
    return old if old is not None else new


def _merged_paper(
    paper: Paper,
    *,
    old: Mapping[str, Any] | None,
    day: dt.date,
    now: dt.datetime,
    replace_authors: bool,
) -> dict[str, Any]:
    """The papers row after seeing `paper` on `day`: newer days win, unknowns never erase."""
    if old is None:
        return _merged_paper(paper, old=_BLANK, day=day, now=now, replace_authors=True)
    newer = day >= old["last_seen"]
    keep_media = not (newer and paper.media_url) and old["media_url"]
    return {
        "arxiv_id": paper.arxiv_id,
        "title": paper.title if newer else old["title"],
        "link": paper.link if newer else old["link"],
        "media_url": old["media_url"] if keep_media else paper.media_url,
        "media_kind": old["media_kind"] if keep_media else paper.media_kind,
        "abstract": _pick(newer, paper.abstract, old["abstract"]),
        "authors_truncated": paper.authors_truncated
        if replace_authors
        else old["authors_truncated"],
        "latest_votes": _pick(newer, paper.votes, old["latest_votes"]),
        "first_seen": min(day, old["first_seen"]),
        "last_seen": max(day, old["last_seen"]),
        "updated_at": now,
        **{name: _pick(newer, getattr(paper, name), old[name]) for name in _HF_FIELDS},
        "ai_keywords": _pick(newer, list(paper.ai_keywords) or None, old["ai_keywords"]),
    }


# What only the HF list carries: a Markdown digest of the same day never erases it.
_HF_FIELDS = (
    "ai_summary",
    "github_repo",
    "github_stars",
    "project_page",
    "num_comments",
    "submitter",
    "organization",
)


# A paper never seen before merges like one last seen on the earliest day, knowing nothing.
_BLANK: dict[str, Any] = {
    "media_url": None,
    "media_kind": None,
    "abstract": None,
    "latest_votes": None,
    "ai_keywords": None,
    **dict.fromkeys(_HF_FIELDS),
    "first_seen": dt.date.max,
    "last_seen": dt.date.min,
}


def _entry_row(position: int, paper: Paper) -> dict[str, Any]:
    """The digest_entries row of one paper in one revision (its digest id comes at flush)."""
    summary = [{"title": part.title, "bullets": list(part.bullets)} for part in paper.summary]
    return {
        "arxiv_id": paper.arxiv_id,
        "position": position,
        "votes": paper.votes,
        "title": paper.title,
        "summary": summary,
        "raw_block": paper.raw,
        "line": paper.line,
    }


def _add_revision(
    batch: _Batch, *, digest: Digest, source: str, papers: int, held: bool = False
) -> _Revision:
    """Queue a new digests row for `digest` as the newest revision of its day and format:
    the current one, or (`held`) one stored beside the current revision, which stays."""
    key = (digest.date, digest.format)
    latest = batch.latest.get(key)
    if latest is not None and not held:
        if latest.pending is not None:
            batch.digests[latest.pending]["is_latest"] = False
        else:
            batch.retired.add(key)
    number = batch.top.get(key, 0) + 1
    revision = _Revision(
        number, content_hash(digest.raw), pending=len(batch.digests), papers=papers
    )
    batch.digests.append(
        {
            "date": digest.date,
            "format": digest.format,
            "source": source,
            "revision": revision.revision,
            "content_hash": revision.content_hash,
            "raw_text": digest.raw,
            "paper_count": papers,
            "error_count": digest.error_count,
            "ingested_at": batch.now,
            "is_latest": not held,
        }
    )
    if not held:
        batch.latest[key] = revision
    batch.top[key] = number
    batch.by_source[(*key, source)] = revision
    return revision


def _add_papers(batch: _Batch, *, papers: list[Paper], day: dt.date, pending: int) -> int:
    """Merge `papers` into the batch's paper rows and author lists; return how many were new."""
    new = 0
    for position, paper in enumerate(papers):
        old = batch.papers.get(paper.arxiv_id)
        new += old is None
        names = _unique_names(paper.authors)
        newer = old is None or day >= old["last_seen"]
        replace = bool(names) and (newer or paper.arxiv_id not in batch.with_authors)
        if replace:
            batch.lists[paper.arxiv_id] = names
            batch.with_authors.add(paper.arxiv_id)
        batch.papers[paper.arxiv_id] = _merged_paper(
            paper, old=old, day=day, now=batch.now, replace_authors=replace
        )
        batch.changed[paper.arxiv_id] = None
        batch.entries.append((pending, _entry_row(position, paper)))
    return new


async def _upsert_papers(session: AsyncSession, *, rows: list[dict[str, Any]]) -> None:
    """Insert or overwrite papers rows (values were merged in Python beforehand)."""
    statement = _upsert(session, _PAPERS)
    statement = statement.on_conflict_do_update(
        index_elements=[_PAPERS.c.arxiv_id],
        set_={name: statement.excluded[name] for name in _PAPER_COLUMNS[1:]},
    )
    values = [tuple(row[name] for name in _PAPER_COLUMNS) for row in rows]
    await insert_many(session, statement=statement, columns=_PAPER_COLUMNS, rows=values)


async def _author_ids(
    session: AsyncSession, *, names: Iterable[str], cache: StoreCache
) -> dict[str, int]:
    """Ids for `names`: cached ones as they are, the rest created if needed and read back."""
    known = cache.author_ids
    missing = [name for name in names if name not in known]
    statement = _upsert(session, _AUTHORS).on_conflict_do_nothing(index_elements=["name"])
    if session.get_bind().dialect.name == "sqlite":  # ids of the rows it creates come back
        statement = statement.returning(_AUTHORS.c.name, _AUTHORS.c.id)
    rows = [(name, normalize_name(name)) for name in missing]
    columns = ("name", "normalized")
    known.update(await insert_many(session, statement=statement, columns=columns, rows=rows))
    missing = [name for name in missing if name not in known]  # those that existed already
    for chunk in _chunks(missing):
        query = select(_AUTHORS.c.name, _AUTHORS.c.id).where(_AUTHORS.c.name.in_(chunk))
        known.update(tuple(row) for row in await session.execute(query))
    return known


async def _write_authors(session: AsyncSession, *, batch: _Batch, cache: StoreCache) -> None:
    """Make the batch's author lists the papers' lists, dropping the stored lists they replace."""
    if not batch.lists:
        return
    names = dict.fromkeys(name for names in batch.lists.values() for name in names)
    ids = await _author_ids(session, names=names, cache=cache)
    stale = [arxiv_id for arxiv_id in batch.lists if arxiv_id in batch.stored_authors]
    touched = {ids[name]: None for names_ in batch.lists.values() for name in names_}
    for chunk in _chunks(stale):
        dropped = delete(_PAPER_AUTHORS).where(_PAPER_AUTHORS.c.arxiv_id.in_(chunk))
        result = await session.execute(dropped.returning(_PAPER_AUTHORS.c.author_id))
        touched.update(dict.fromkeys(result.scalars()))
    rows = [
        (arxiv_id, position, ids[name])
        for arxiv_id, names_ in batch.lists.items()
        for position, name in enumerate(names_)
    ]
    columns = ("arxiv_id", "position", "author_id")
    await insert_many(session, statement=insert(_PAPER_AUTHORS), columns=columns, rows=rows)
    await _count_author_papers(session, ids=list(touched))


async def _count_author_papers(session: AsyncSession, *, ids: Sequence[int]) -> None:
    """Set `authors.paper_count` of these authors from the stored lists."""
    papers = (
        select(func.count())
        .select_from(_PAPER_AUTHORS)
        .where(_PAPER_AUTHORS.c.author_id == _AUTHORS.c.id)
        .scalar_subquery()
    )
    recount = update(_AUTHORS).values(paper_count=papers)
    for chunk in _chunks(sorted(ids)):
        await session.execute(recount.where(_AUTHORS.c.id.in_(chunk)))


async def _write_digests(session: AsyncSession, *, batch: _Batch) -> list[int]:
    """Retire the stored latest revisions the batch replaces, then insert its revisions."""
    if batch.retired:
        retire = (
            update(_DIGESTS)
            .where(_DIGESTS.c.date == bindparam("b_date"))
            .where(_DIGESTS.c.format == bindparam("b_format"), _DIGESTS.c.is_latest.is_(True))
            .values(is_latest=False)
        )
        keys = [{"b_date": date, "b_format": format_} for date, format_ in sorted(batch.retired)]
        await session.execute(retire, keys)
    if not batch.digests:
        return []
    # Rows come back keyed by their unique (date, format, revision): one multi-row INSERT,
    # where asking SQLAlchemy for parameter order would send one INSERT per row on SQLite.
    key = (_DIGESTS.c.date, _DIGESTS.c.format, _DIGESTS.c.revision)
    statement = insert(_DIGESTS).returning(_DIGESTS.c.id, *key)
    ids = {tuple(row[1:]): row.id for row in await session.execute(statement, batch.digests)}
    return [ids[row["date"], row["format"], row["revision"]] for row in batch.digests]


async def _flush(session: AsyncSession, *, batch: _Batch, cache: StoreCache) -> list[int]:
    """Write the batch: revisions, papers, entries, then author lists; return the digest ids."""
    digest_ids = await _write_digests(session, batch=batch)
    if batch.changed:
        await _upsert_papers(session, rows=[batch.papers[i] for i in batch.changed])
    entries = [
        (digest_ids[pending], *(row[name] for name in _ENTRY_COLUMNS[1:]))
        for pending, row in batch.entries
    ]
    await insert_many(session, statement=insert(_ENTRIES), columns=_ENTRY_COLUMNS, rows=entries)
    await _write_authors(session, batch=batch, cache=cache)
    return digest_ids


async def _start_batch(
    session: AsyncSession, *, digests: Sequence[tuple[Digest, str]], now: dt.datetime
) -> _Batch:
    """Read the stored state the batch builds on: newest revisions and the papers it touches."""
    keys = Counter((digest.date, digest.format) for digest, _ in digests)
    batch = await _latest_revisions(session, keys=set(keys), now=now)
    # Papers of a digest equal to a stored revision are not needed, unless the batch revises
    # that day first (the same key twice): then the "unchanged" file becomes a revision too;
    # nor is a held one's, unless `force` may make it current.
    ids = [
        paper.arxiv_id
        for digest, source in digests
        if keys[(digest.date, digest.format)] > 1 or _may_write(batch, digest, source)
        for paper in digest.papers
    ]
    papers, with_authors = await _existing_with_authors(session, ids=list(dict.fromkeys(ids)))
    batch.papers, batch.with_authors = papers, with_authors
    batch.stored_authors, batch.stored_papers = frozenset(with_authors), frozenset(papers)
    return batch


_Planned = tuple[_Revision, StoreStatus, int, int, int | None]


def _plan(batch: _Batch, *, digest: Digest, source: str, force: bool) -> _Planned:
    """Queue what storing `digest` writes; (revision, status, papers, new papers, current's
    papers when held)."""
    papers = _unique_papers(digest.papers)
    current = batch.latest.get((digest.date, digest.format))
    stored, held = _repeats(batch, digest, source)
    if stored is not None and not (held and force):
        kept = current.papers if held and current is not None else None
        return stored, "held" if held else "unchanged", len(papers), 0, kept
    if current is not None and not force and loses_most(current=current.papers, new=len(papers)):
        revision = _add_revision(batch, digest=digest, source=source, papers=len(papers), held=True)
        return revision, "held", len(papers), 0, current.papers
    revision = _add_revision(batch, digest=digest, source=source, papers=len(papers))
    new = _add_papers(batch, papers=papers, day=digest.date, pending=len(batch.digests) - 1)
    return revision, "new" if revision.revision == 1 else "revision", len(papers), new, None


async def store_digests(
    session: AsyncSession,
    *,
    digests: Sequence[tuple[Digest, str]],
    now: dt.datetime | None = None,
    cache: StoreCache | None = None,
    tokens: Mapping[str, str] | Awaitable[Mapping[str, str]] | None = None,
    force: bool = False,
) -> list[StoreResult]:
    """Store each (digest, source) in order, as `store_digest` would one by one, in few statements.

    Later digests see earlier ones (a paper on two days, a day revised twice), because the batch
    is merged in Python first and written with one statement per table. `tokens` are token
    strings of the papers' texts analysed beforehand (`storage.search_index.analyse_texts`), or an
    awaitable of them (awaited once the archive rows are written; pass a future to reuse it).

    A revision that would lose most of its day's papers (`loses_most`) is held: its text is
    stored as a revision that is not current, and its papers touch nothing; storing it again
    reports it held again. `force` makes it current like any other revision.
    """
    batch = await _start_batch(session, digests=digests, now=now or dt.datetime.now(dt.UTC))
    planned = [
        _plan(batch, digest=digest, source=source, force=force) for digest, source in digests
    ]
    digest_ids = await _flush(session, batch=batch, cache=cache or StoreCache())
    if tokens is not None and not isinstance(tokens, Mapping):
        tokens = await tokens
    sources = _new_paper_sources(batch, digest_ids=digest_ids)
    await index_papers(session, arxiv_ids=list(batch.changed), sources=sources, tokens=tokens)
    return [
        StoreResult(
            revision.id if revision.pending is None else digest_ids[revision.pending],
            revision.revision,
            status,
            papers,
            new,
            current,
        )
        for revision, status, papers, new, current in planned
    ]


def _new_paper_sources(batch: _Batch, *, digest_ids: Sequence[int]) -> dict[str, IndexSource]:
    """Search sources of the papers this batch stored first: all their rows are in the batch."""
    entries: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for pending, row in batch.entries:
        if row["arxiv_id"] not in batch.stored_papers:
            entries.setdefault(row["arxiv_id"], []).append((digest_ids[pending], row))
    sources: dict[str, IndexSource] = {}
    for arxiv_id, found in entries.items():
        found.sort(key=lambda entry: -entry[0])  # newest revision first, as the archive reads
        paper = batch.papers[arxiv_id]
        sources[arxiv_id] = IndexSource(
            arxiv_id=arxiv_id,
            title=paper["title"],
            abstract=paper["abstract"],
            votes=paper["latest_votes"],
            day=paper["last_seen"],
            authors=[normalize_name(name) for name in batch.lists.get(arxiv_id, ())],
            texts=entry_texts((row["title"], row["summary"]) for _, row in found),
        )
    return sources


async def store_digest(
    session: AsyncSession,
    *,
    digest: Digest,
    source: str,
    now: dt.datetime | None = None,
    cache: StoreCache | None = None,
) -> StoreResult:
    """Store `digest` as a new revision of its day, unless it equals the latest revision."""
    [result] = await store_digests(session, digests=[(digest, source)], now=now, cache=cache)
    return result
