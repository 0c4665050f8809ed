"""The search index: one `search_documents` row per paper, analysed from its title, authors and
texts (Korean summary, abstract, the HF list's one-liner and keywords) at ingest, and (re)built
from the archive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.digest.models import Paper
from storage.analysis import analyze_text, title_extras
from storage.bulk import insert_many
from storage.keywords import newest_keywords
from storage.models import Author, DigestEntry, PaperAuthor, StoredPaper
from storage.names import normalize_name as _fold_name
from storage.summaries import done_summaries

_CHUNK = 500
_PAPERS: Table = StoredPaper.__table__  # type: ignore[assignment]
_ENTRIES: Table = DigestEntry.__table__  # type: ignore[assignment]
_AUTHORS: Table = Author.__table__  # type: ignore[assignment]
_PAPER_AUTHORS: Table = PaperAuthor.__table__  # type: ignore[assignment]
# Declared here, not in storage.models: only search reads or writes it (migration 0002).
DOCUMENTS = Table(
    "search_documents",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("arxiv_id", String(64), nullable=False, unique=True),
    Column("title_tokens", Text, nullable=False),
    Column("author_tokens", Text, nullable=False),
    Column("body_tokens", Text, nullable=False),
    Column("votes", Integer),
    Column("day", Date, nullable=False),
)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    """Split `items` for IN lists."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _dialect(session: AsyncSession) -> str:
    """The session's database dialect name."""
    return session.get_bind().dialect.name


TokenLookup = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class IndexSource:
    """What one paper's search document is made of, when the caller already holds it.

    `authors` are folded names (`authors.normalized`) in list order; `texts` are as
    `entry_texts` returns them for the paper's digest entries.
    """

    arxiv_id: str
    title: str
    abstract: str | None
    votes: int | None
    day: dt.date
    authors: Sequence[str]
    texts: Sequence[str]


def summary_text(summary: Any) -> str:
    """The plain text of a stored summary (JSON list of sections)."""
    parts: list[str] = []
    for section in summary or ():
        if isinstance(section, dict):
            parts.append(str(section.get("title") or ""))
            parts.extend(str(bullet) for bullet in section.get("bullets", ()))
    return "\n".join(parts)


def entry_texts(entries: Iterable[tuple[str, Any]]) -> list[str]:
    """Other titles, the newest title and the newest summary, from a paper's (title, summary)
    entries newest first.

    Older revisions repeat the newest summary, so only the newest one counts; but an entry
    without a summary (a Hugging Face JSON digest of the same day) does not hide the Korean
    summary of an older Markdown entry.
    """
    titles: list[str] = []
    summary = ""
    for title, stored in entries:
        if title not in titles:
            titles.append(title)
        if not summary:
            summary = summary_text(stored)
    if not titles:
        return []
    return [*reversed(titles[1:]), titles[0], summary]


def hf_texts(ai_summary: str | None, ai_keywords: Iterable[str] | None) -> list[str]:
    """The HF list's English one-line summary and its keywords, as a document indexes them."""
    return [ai_summary or "", " ; ".join(ai_keywords or ())]


def paper_texts(paper: Paper) -> list[str]:
    """Every text a parsed paper can put in a search document (to analyse ahead of storing)."""
    summary = [{"title": part.title, "bullets": part.bullets} for part in paper.summary]
    names = (_fold_name(name) for name in paper.authors)
    hf = hf_texts(paper.ai_summary, paper.ai_keywords)
    return [paper.title, summary_text(summary), paper.abstract or "", *hf, *names]


def analyse_texts(texts: Iterable[str]) -> dict[str, str]:
    """The index token string of each text, keyed by the text (picklable both ways)."""
    return {text: analyze_text(text) for text in dict.fromkeys(texts)}


def _lookup(known: Mapping[str, str] | None) -> TokenLookup:
    """Token strings from `known` when it has the text, else analysed now."""
    if not known:
        return analyze_text
    return lambda text: known[text] if text in known else analyze_text(text)


def _joined(token_strings: Iterable[str]) -> str:
    """Token strings of consecutive texts as one field's tokens.

    The separators used ("\\n", " ; ") are stable under NFKC and split every run, so the
    phrase tokens are those of the concatenation; each text's compound pairs
    (storage.analysis) follow its own tokens, and none pairs with another text's token.
    """
    return " ".join(tokens for tokens in token_strings if tokens)


def _body_texts(source: IndexSource, extras: Sequence[str]) -> list[str]:
    """A document's body texts: its newest title and summary (and older titles), abstract and
    `extras`."""
    return [*source.texts[1:], source.abstract or "", *extras]


def document_row(
    source: IndexSource, *, tokens: TokenLookup = analyze_text, extras: Sequence[str] = ()
) -> dict[str, Any]:
    """The search_documents row of one paper (`tokens` maps a text to its token string;
    `extras` are more texts for its body: `hf_texts`). The title's tokens are followed by its
    `title_extras` (its camel-case names' parts)."""
    body = _body_texts(source, extras)
    return {
        "arxiv_id": source.arxiv_id,
        "title_tokens": _joined([tokens(source.title), title_extras(source.title)]),
        "author_tokens": _joined(tokens(name) for name in source.authors),
        "body_tokens": _joined(tokens(text) for text in body),
        "votes": source.votes,
        "day": source.day,
    }


async def _entry_texts(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, list[str]]:
    """Per paper: `entry_texts` of its digest entries read from the archive."""
    query = (
        select(_ENTRIES.c.arxiv_id, _ENTRIES.c.title, _ENTRIES.c.summary)
        .where(_ENTRIES.c.arxiv_id.in_(ids))
        .order_by(_ENTRIES.c.digest_id.desc())
    )
    entries: dict[str, list[tuple[str, Any]]] = {}
    for row in await session.execute(query):
        entries.setdefault(row.arxiv_id, []).append((row.title, row.summary))
    return {arxiv_id: entry_texts(found) for arxiv_id, found in entries.items()}


async def _author_names(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, list[str]]:
    """Folded author names of each paper, in list order."""
    query = (
        select(_PAPER_AUTHORS.c.arxiv_id, _AUTHORS.c.normalized)
        .join(_AUTHORS, _AUTHORS.c.id == _PAPER_AUTHORS.c.author_id)
        .where(_PAPER_AUTHORS.c.arxiv_id.in_(ids))
        .order_by(_PAPER_AUTHORS.c.arxiv_id, _PAPER_AUTHORS.c.position)
    )
    names: dict[str, list[str]] = {}
    for row in await session.execute(query):
        names.setdefault(row.arxiv_id, []).append(row.normalized)
    return names


async def _stored_sources(session: AsyncSession, *, ids: Sequence[str]) -> list[IndexSource]:
    """`IndexSource`s of papers read from the archive (unknown ids are left out)."""
    columns = (_PAPERS.c.arxiv_id, _PAPERS.c.title, _PAPERS.c.abstract)
    query = select(*columns, _PAPERS.c.latest_votes, _PAPERS.c.last_seen)
    papers = (await session.execute(query.where(_PAPERS.c.arxiv_id.in_(ids)))).all()
    if not papers:
        return []
    found = [row.arxiv_id for row in papers]
    texts = await _entry_texts(session, ids=found)
    authors = await _author_names(session, ids=found)
    return [
        IndexSource(
            arxiv_id=row.arxiv_id,
            title=row.title,
            abstract=row.abstract,
            votes=row.latest_votes,
            day=row.last_seen,
            authors=authors.get(row.arxiv_id, ()),
            texts=texts.get(row.arxiv_id, [row.title, ""]),
        )
        for row in papers
    ]


_DOCUMENT_COLUMNS = tuple(c.name for c in DOCUMENTS.columns if c.name != "id")


@dataclass(frozen=True, slots=True)
class _StoredExtras:
    """What the archive holds for a paper beyond its digest entries."""

    hf: dict[str, list[str]]  # `hf_texts` of its papers row, then its model-written keywords
    generated: dict[str, str]  # the text of its newest done generated summary


@dataclass(frozen=True, slots=True)
class _Schema:
    """Which extras the schema holds: the rebuild `storage.db.upgrade` runs at `REINDEX_BELOW`
    sees an older one."""

    hf: bool  # the HF columns and generated summaries (migration 0008)
    keywords: bool  # paper_keywords (migration 0018)


def _schema(session: Session) -> _Schema:
    """What the session's schema holds (`_Schema`)."""
    inspector = inspect(session.connection())
    columns = {column["name"] for column in inspector.get_columns("papers")}
    hf = "ai_summary" in columns and inspector.has_table("summaries")
    return _Schema(hf=hf, keywords=inspector.has_table("paper_keywords"))


def keyword_text(keywords: Iterable[str]) -> str:
    """A model's keywords for a paper, as a document indexes them (like the HF list's)."""
    return " ; ".join(keywords)


async def _stored_extras(
    session: AsyncSession, *, ids: Sequence[str], schema: _Schema
) -> _StoredExtras:
    """The HF texts, model-written keywords and generated summaries of papers (unknown ids are
    left out)."""
    if not ids or not schema.hf:
        return _StoredExtras({}, {})
    query = select(_PAPERS.c.arxiv_id, _PAPERS.c.ai_summary, _PAPERS.c.ai_keywords)
    rows = await session.execute(query.where(_PAPERS.c.arxiv_id.in_(ids)))
    hf = {row.arxiv_id: hf_texts(row.ai_summary, row.ai_keywords) for row in rows}
    if schema.keywords:
        for arxiv_id, keywords in (await newest_keywords(session, arxiv_ids=ids)).items():
            hf.setdefault(arxiv_id, []).append(keyword_text(keywords))
    return _StoredExtras(hf, await _generated_texts(session, ids=ids))


async def _generated_texts(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, str]:
    """The text of each paper's newest done generated summary (papers without one left out)."""
    return {
        arxiv_id: summary_text([{"title": s.title, "bullets": s.bullets} for s in sections])
        for arxiv_id, (sections, _model) in (await done_summaries(session, arxiv_ids=ids)).items()
    }


def _with_generated(source: IndexSource, generated: str) -> IndexSource:
    """The source with a generated summary in the summary's place when its digests gave none
    (as chats get it: `storage.papers.day_papers`)."""
    if not generated or (source.texts and source.texts[-1]):
        return source
    texts = [*source.texts[:-1], generated] if source.texts else [source.title, generated]
    return replace(source, texts=texts)


def _upsert(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT (arxiv_id) DO UPDATE for the session's dialect."""
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    statement = insert(DOCUMENTS)
    columns = [c.name for c in DOCUMENTS.columns if c.name not in ("id", "arxiv_id")]
    return statement.on_conflict_do_update(
        index_elements=[DOCUMENTS.c.arxiv_id],
        set_={name: statement.excluded[name] for name in columns},
    )


async def _complete_sources(
    session: AsyncSession, sources: Sequence[IndexSource], *, schema: _Schema
) -> list[tuple[IndexSource, Sequence[str]]]:
    """Each source with its generated summary in place (`_with_generated`) and its HF texts and
    keywords."""
    extras = await _stored_extras(session, ids=[s.arxiv_id for s in sources], schema=schema)
    return [
        (
            _with_generated(source, extras.generated.get(source.arxiv_id, "")),
            extras.hf.get(source.arxiv_id, ()),
        )
        for source in sources
    ]


async def document_texts(session: AsyncSession, *, arxiv_ids: Sequence[str]) -> dict[str, str]:
    """Each paper's search document before analysis: its titles, summary (or generated
    summary), abstract, HF one-liner and keywords, and folded author names, one text (for
    measuring other analysers on the same text: bench.recommend_eval's published baseline)."""
    schema = await session.run_sync(_schema)
    found: dict[str, str] = {}
    for chunk in _chunks(list(dict.fromkeys(arxiv_ids))):
        sources = await _stored_sources(session, ids=chunk)
        for source, hf in await _complete_sources(session, sources, schema=schema):
            parts = [source.title, *_body_texts(source, hf), *source.authors]
            found[source.arxiv_id] = "\n".join(part for part in parts if part)
    return found


async def index_papers(
    session: AsyncSession,
    *,
    arxiv_ids: Sequence[str],
    sources: Mapping[str, IndexSource] | None = None,
    tokens: Mapping[str, str] | None = None,
) -> None:
    """(Re-)index the given papers; idempotent, unknown ids are ignored.

    A paper in `sources` is indexed from it as given (the caller vouches that it is what the
    archive holds, e.g. a paper first stored in this transaction); the others are read from
    the archive. Either way the papers rows' HF texts and the done generated summaries are read
    from the archive. `tokens` holds token strings already computed for texts (`analyse_texts`).
    """
    sources = sources or {}
    lookup = _lookup(tokens)
    statement = _upsert(session)
    schema = await session.run_sync(_schema)
    for chunk in _chunks(list(dict.fromkeys(arxiv_ids))):
        given = [sources[i] for i in chunk if i in sources]
        missing = [i for i in chunk if i not in sources]
        stored = await _stored_sources(session, ids=missing) if missing else []
        # Arxiv id order within a chunk, as reading the chunk back gives: same row ids either way.
        found = sorted([*given, *stored], key=lambda source: source.arxiv_id)
        complete = await _complete_sources(session, found, schema=schema)
        rows = [document_row(source, tokens=lookup, extras=hf) for source, hf in complete]
        await insert_many(
            session,
            statement=statement,
            columns=_DOCUMENT_COLUMNS,
            rows=[tuple(row[name] for name in _DOCUMENT_COLUMNS) for row in rows],
        )


async def reindex_papers(session: AsyncSession, *, arxiv_ids: Sequence[str]) -> None:
    """Refresh the index rows of these papers from what is stored (e.g. after a generated
    summary was stored for them); unknown ids are ignored."""
    await index_papers(session, arxiv_ids=arxiv_ids)


async def rebuild_index(session: AsyncSession) -> None:
    """Drop every search document and index the whole archive again.

    On PostgreSQL the lexeme statistics (migration 0012) are gathered again at once: they
    described the old documents, and storage.search sizes its window from them.
    """
    await session.execute(delete(DOCUMENTS))
    # In a stable order: document ids decide which matches count as "newest" (RANKED_MATCHES).
    query = select(_PAPERS.c.arxiv_id).order_by(_PAPERS.c.last_seen, _PAPERS.c.arxiv_id)
    ids = list((await session.execute(query)).scalars())
    await index_papers(session, arxiv_ids=ids)
    if _dialect(session) == "postgresql":  # in the transaction: it samples the new rows
        await session.execute(text("ANALYZE search_documents"))


@dataclass(frozen=True, slots=True)
class PaperText:
    """What a model reads of a paper to write its keywords (bot.content.keywords)."""

    arxiv_id: str
    title: str  # its newest digest title
    summary: str  # its Korean summary (a digest's, else a generated one), or ""
    abstract: str | None
    hf_keywords: tuple[str, ...]


async def paper_texts_of(session: AsyncSession, *, arxiv_ids: Sequence[str]) -> list[PaperText]:
    """The `PaperText` of each known paper, in the order asked."""
    schema = await session.run_sync(_schema)
    found: dict[str, PaperText] = {}
    for chunk in _chunks(list(dict.fromkeys(arxiv_ids))):
        sources = await _stored_sources(session, ids=chunk)
        query = select(_PAPERS.c.arxiv_id, _PAPERS.c.ai_keywords).where(
            _PAPERS.c.arxiv_id.in_(chunk)
        )
        hf = {row.arxiv_id: tuple(row.ai_keywords or ()) for row in await session.execute(query)}
        generated = await _generated_texts(session, ids=chunk) if schema.hf else {}
        for stored in sources:
            source = _with_generated(stored, generated.get(stored.arxiv_id, ""))
            texts = source.texts
            found[source.arxiv_id] = PaperText(
                arxiv_id=source.arxiv_id,
                title=texts[-2] if len(texts) >= 2 else source.title,
                summary=texts[-1] if texts else "",
                abstract=source.abstract,
                hf_keywords=hf.get(source.arxiv_id, ()),
            )
    return [found[i] for i in arxiv_ids if i in found]
