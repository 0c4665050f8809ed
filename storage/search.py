"""Full-text search over the archive: indexing at ingest, paper and author queries.

One `search_documents` row per paper holds pre-analysed tokens (storage.analysis) for its
title, authors and summary/abstract. SQLite indexes them with an FTS5 table (unicode61 only
splits on the spaces we put there); PostgreSQL with a generated tsvector ('simple' config) and
GIN. Queries are built from our own quoted tokens only, never from raw user text.

Ranking (documented contract):
    score = text × (1 + 0.15·ln(1 + votes)) × (1 + 0.3·exp(−age_days / 180))
where `text` is FTS5 BM25 negated (column weights title 5, authors 3, body 1; on PostgreSQL
ts_rank with weights A=1, B=0.6, C=0.3 scaled ×10) times a title boost (1 + the share of query
terms whose tokens appear as a phrase in the title), `votes` the paper's latest vote count and
`age_days` its distance from the newest paper in the archive (not the wall clock, so results do
not drift). The 200 best BM25 candidates are re-ranked with this formula. A paper named by an
arXiv id or URL in the query comes first with score 1e6. A query matching more than
`RANKED_MATCHES` papers (a single very common word) is ranked over only the newest
`RANKED_MATCHES` of them, by FTS5 rowid or by document id (papers are indexed as days arrive):
such a word says little about relevance, and ranking every match was the slow tail at 100k.
The fallback for a query whose words do not all match together drops the words no paper has
(scores unchanged), then leaves each remaining word out in turn, rarest first (scores × 0.3,
`LOOSE_VARIANTS` queries at most); it ranks at most `LOOSE_RANKED_MATCHES` newest matches per
variant.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Paper
from storage import glossary
from storage.analysis import (
    MAX_TERMS,
    PREFIX,
    ParsedQuery,
    analyze,
    analyze_text,
    author_terms,
    parse_query,
    term_tokens,
)
from storage.bulk import insert_many
from storage.models import Author, DigestEntry, PaperAuthor, StoredPaper
from storage.names import normalize_name as _fold_name

_CHUNK = 500
_CANDIDATES = 200
# A query matching more papers ranks only this many, the newest indexed (see the docstring).
RANKED_MATCHES = 2000
# The fallback for queries whose words do not all match (score × 0.3) ranks fewer still.
LOOSE_RANKED_MATCHES = 500
LOOSE_VARIANTS = 5  # fallback queries at most, each leaving out one word
RARE_MATCHES = 50  # a word's matches are counted up to this, to find the rarest words
ID_SCORE = 1e6
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


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A paper found by `search_papers`, best first."""

    arxiv_id: str
    title: str
    score: float
    votes: int | None
    last_seen: dt.date


@dataclass(frozen=True, slots=True)
class AuthorHit:
    """An author found by `search_authors`, best first.

    One person may be stored under several spellings that fold alike (`Björn Ommer`, `Bjorn
    Ommer`): a hit stands for all of them. `author_id` and `name` are the spelling with most
    papers, `author_ids` every spelling's id (that one first), `paper_count` their papers.
    """

    author_id: int
    name: str
    paper_count: int
    score: float
    author_ids: tuple[int, ...] = ()

    @property
    def ids(self) -> tuple[int, ...]:
        """Every author id this hit stands for."""
        return self.author_ids or (self.author_id,)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    """Split `items` for IN lists."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _dialect(session: AsyncSession) -> str:
    """The session's database dialect name."""
    return session.get_bind().dialect.name


# --- Indexing -------------------------------------------------------------------------------


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


def paper_texts(paper: Paper) -> list[str]:
    """Every text a parsed paper can put in a search document (to analyse ahead of storing)."""
    summary = [{"title": part.title, "bullets": part.bullets} for part in paper.summary]
    names = (_fold_name(name) for name in paper.authors)
    return [paper.title, summary_text(summary), paper.abstract or "", *names]


def analyse_texts(texts: Iterable[str]) -> dict[str, str]:
    """The index token string of each text, keyed by the text (picklable both ways)."""
    return {text: analyze_text(text) for text in dict.fromkeys(texts)}


def _lookup(known: Mapping[str, str] | None) -> TokenLookup:
    """Token strings from `known` when it has the text, else analysed now."""
    if not known:
        return analyze_text
    return lambda text: known[text] if text in known else analyze_text(text)


def _joined(token_strings: Iterable[str]) -> str:
    """Token strings of consecutive texts as the tokens of the texts joined by a separator.

    The separators used ("\\n", " ; ") are stable under NFKC and split every run, so the
    tokens of a concatenation are the concatenation of each text's tokens.
    """
    return " ".join(tokens for tokens in token_strings if tokens)


def document_row(source: IndexSource, *, tokens: TokenLookup = analyze_text) -> dict[str, Any]:
    """The search_documents row of one paper (`tokens` maps a text to its token string)."""
    body = [*source.texts[1:], source.abstract or ""]
    return {
        "arxiv_id": source.arxiv_id,
        "title_tokens": tokens(source.title),
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


def _upsert(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT (arxiv_id) DO UPDATE for the session's dialect."""
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    statement = insert(DOCUMENTS)
    columns = [c.name for c in DOCUMENTS.columns if c.name not in ("id", "arxiv_id")]
    return statement.on_conflict_do_update(
        index_elements=[DOCUMENTS.c.arxiv_id],
        set_={name: statement.excluded[name] for name in columns},
    )


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
    the archive. `tokens` holds token strings already computed for texts (`analyse_texts`).
    """
    sources = sources or {}
    lookup = _lookup(tokens)
    statement = _upsert(session)
    for chunk in _chunks(list(dict.fromkeys(arxiv_ids))):
        given = [sources[i] for i in chunk if i in sources]
        missing = [i for i in chunk if i not in sources]
        stored = await _stored_sources(session, ids=missing) if missing else []
        # Arxiv id order within a chunk, as reading the chunk back gives: same row ids either way.
        found = sorted([*given, *stored], key=lambda source: source.arxiv_id)
        rows = [document_row(source, tokens=lookup) for source in found]
        await insert_many(
            session,
            statement=statement,
            columns=_DOCUMENT_COLUMNS,
            rows=[tuple(row[name] for name in _DOCUMENT_COLUMNS) for row in rows],
        )


async def rebuild_index(session: AsyncSession) -> None:
    """Drop every search document and index the whole archive again."""
    await session.execute(delete(DOCUMENTS))
    # In a stable order: document ids decide which matches count as "newest" (RANKED_MATCHES).
    query = select(_PAPERS.c.arxiv_id).order_by(_PAPERS.c.last_seen, _PAPERS.c.arxiv_id)
    ids = list((await session.execute(query)).scalars())
    await index_papers(session, arxiv_ids=ids)


# --- Paper queries ----------------------------------------------------------------------------


def _alternatives(word: str) -> list[list[str]]:
    """Token sequences any of which matches `word`, widened by the glossary."""
    alternatives = [tokens for tokens in term_tokens(word) if tokens]
    for other in glossary.translations(word):
        alternatives.extend(tokens for tokens in _phrase_tokens(other) if tokens)
    unique: dict[tuple[str, ...], None] = dict.fromkeys(tuple(a[:MAX_TERMS]) for a in alternatives)
    return [list(tokens) for tokens in unique]


def _phrase_tokens(phrase: str) -> list[list[str]]:
    """A multi-word phrase as one token sequence (what the index stores for that text)."""
    tokens = analyze(phrase)
    return [tokens] if tokens else []


def _terms(parsed: ParsedQuery) -> tuple[list[list[list[str]]], list[list[list[str]]]]:
    """Positive terms (each a list of alternatives) and excluded terms, bounded in number."""
    positive = [_phrase_tokens(phrase) for phrase in parsed.phrases]
    positive += _merge_glossary_phrases(parsed.words)
    negative = [term_tokens(word) for word in parsed.excluded]
    return [t for t in positive if t][:MAX_TERMS], [t for t in negative if t][:MAX_TERMS]


def _merge_glossary_phrases(words: Sequence[str]) -> list[list[list[str]]]:
    """Alternatives per word; a run of words forming a glossary entry adds its translation."""
    terms: list[list[list[str]]] = []
    index = 0
    while index < len(words):
        span, translations = glossary.longest_match(words[index:])
        if span > 1:
            phrase = " ".join(words[index : index + span])
            alternatives = [[tok for w in words[index : index + span] for tok in _first(w)]]
            alternatives += [tokens for other in translations for tokens in _phrase_tokens(other)]
            alternatives += _phrase_tokens(phrase)
            terms.append(_dedupe(alternatives))
            index += span
            continue
        terms.append(_alternatives(words[index]))
        index += 1
    return terms


def _first(word: str) -> list[str]:
    """The main token sequence of one query word."""
    found = term_tokens(word)
    return found[0] if found else []


def _dedupe(alternatives: list[list[str]]) -> list[list[str]]:
    """Drop empty and repeated alternatives, keeping order."""
    unique = dict.fromkeys(tuple(a[:MAX_TERMS]) for a in alternatives if a)
    return [list(tokens) for tokens in unique]


def fts5_expression(positive: list[list[list[str]]], negative: list[list[list[str]]]) -> str:
    """An FTS5 MATCH expression from analysed tokens, each quoted (tokens hold no quotes)."""

    def phrase(tokens: list[str]) -> str:
        # `"a b"* + "c"`: a `*` after a string makes its last token a prefix token.
        strings, current = [], []
        for token in tokens:
            current.append(token.replace('"', "").removesuffix(PREFIX))
            if token.endswith(PREFIX):
                strings.append('"' + " ".join(current) + '"*')
                current = []
        if current or not strings:
            strings.append('"' + " ".join(current) + '"')
        return " + ".join(strings)

    def term(alternatives: list[list[str]]) -> str:
        return "(" + " OR ".join(phrase(tokens) for tokens in alternatives) + ")"

    expression = " AND ".join(term(alternatives) for alternatives in positive)
    for alternatives in negative:
        expression += " NOT " + term(alternatives)
    return expression


def tsquery_expression(positive: list[list[list[str]]], negative: list[list[list[str]]]) -> str:
    """The same query as a PostgreSQL to_tsquery('simple', …) string, tokens quoted."""

    def lexeme(token: str) -> str:
        quoted = "'" + token.replace("'", "").removesuffix(PREFIX) + "'"
        return quoted + ":*" if token.endswith(PREFIX) else quoted

    def phrase(tokens: list[str]) -> str:
        return "(" + " <-> ".join(lexeme(token) for token in tokens) + ")"

    def term(alternatives: list[list[str]]) -> str:
        return "(" + " | ".join(phrase(tokens) for tokens in alternatives) + ")"

    expression = " & ".join(term(alternatives) for alternatives in positive)
    for alternatives in negative:
        expression += " & !" + term(alternatives)
    return expression


AuthorSets = list[list[int]] | None  # per `author:` part, the ids it may mean (None: no part)


def _filters(parsed: ParsedQuery, authors: AuthorSets) -> tuple[list[Any], dict[str, Any]]:
    """SQL conditions on search_documents `d` for dates and authors, with their parameters.

    Each `author:` part is a condition of its own: `author:lecun author:ballas` asks for
    papers by both.
    """
    conditions: list[Any] = []
    params: dict[str, Any] = {}
    if parsed.dates.start:
        conditions.append("d.day >= :start")
        params["start"] = dt.date.fromisoformat(parsed.dates.start)
    if parsed.dates.end:
        conditions.append("d.day <= :end")
        params["end"] = dt.date.fromisoformat(parsed.dates.end)
    for number, ids in enumerate(authors or ()):
        conditions.append(
            "d.arxiv_id IN (SELECT pa.arxiv_id FROM paper_authors pa "
            f"WHERE pa.author_id IN :author_ids{number})"
        )
        params[f"author_ids{number}"] = ids or [-1]
    return conditions, params


async def _candidates(
    session: AsyncSession,
    *,
    parsed: ParsedQuery,
    authors: AuthorSets,
    ranked: int | None = None,
) -> list[tuple[str, float, int | None, dt.date]]:
    """Up to 200 (arxiv_id, text score, votes, day) by text relevance, or by votes without text."""
    ranked = RANKED_MATCHES if ranked is None else ranked  # read late: tests lower it
    positive, negative = _terms(parsed)
    conditions, params = _filters(parsed, authors)
    if not positive and (parsed.has_text or not conditions):
        return []
    postgres = _dialect(session) == "postgresql"
    if not positive:
        sql = "SELECT d.arxiv_id, 1.0 AS score, d.votes, d.day, '' FROM search_documents d"
        order = " ORDER BY d.day DESC, d.votes DESC"
    elif postgres:
        params["q"] = tsquery_expression(positive, negative)
        sql, order = _tsquery_select(conditions, ranked=ranked)
        conditions = []
    else:
        params["q"] = fts5_expression(positive, negative)
        sql, order = _fts5_select(filtered=bool(conditions), ranked=ranked)
        conditions = [] if not conditions else ["search_fts MATCH :q", _RANK, *conditions]
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    statement = text(sql + order + f" LIMIT {_CANDIDATES}")
    expanding = [name for name in params if name.startswith("author_ids")]
    if expanding:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
    rows = await session.execute(statement, params)
    return [
        (row[0], float(row[1]) * title_boost(positive, row[4]), row[2], _as_date(row[3]))
        for row in rows
    ]


_RANK = "search_fts.rank MATCH 'bm25(5.0, 3.0, 1.0)'"


def _fts5_select(*, filtered: bool, ranked: int = RANKED_MATCHES) -> tuple[str, str]:
    """The FTS5 candidate SELECT and ORDER BY (column-weighted BM25 as FTS5's `rank`).

    Without filters the best 200 rowids are picked inside FTS5 first and only they are joined:
    a common word matches most papers, and joining every match before the LIMIT was the cost.
    And only matches from the `ranked`-th newest on are ranked: FTS5 walks matches in
    rowid order without ranking them, so finding that rowid costs at most that many steps,
    while BM25 over every match of a very common word (`방법에서`) was the slow tail.
    """
    columns = "SELECT d.arxiv_id, -f.rank AS score, d.votes, d.day, d.title_tokens "
    if filtered:
        sql = columns.replace("f.rank", "search_fts.rank") + (
            "FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid"
        )
        return sql, " ORDER BY search_fts.rank"
    newest = (
        " AND rowid >= coalesce((SELECT rowid FROM search_fts WHERE search_fts MATCH :q "
        f"ORDER BY rowid DESC LIMIT 1 OFFSET {ranked - 1}), 0)"
    )
    inner = (
        f"SELECT rowid, rank FROM search_fts WHERE search_fts MATCH :q AND {_RANK}{newest} "
        f"ORDER BY rank LIMIT {_CANDIDATES}"
    )
    return (
        columns + f"FROM ({inner}) f JOIN search_documents d ON d.id = f.rowid",
        " ORDER BY f.rank",
    )


def _tsquery_select(conditions: list[str], *, ranked: int) -> tuple[str, str]:
    """The PostgreSQL candidate SELECT and ORDER BY: ts_rank over the newest `ranked` matches.

    As on SQLite, a very common term (or phrase: GIN finds candidates, but positions are
    checked row by row) is ranked over its newest matches only: ranking all 50,000 matches
    of one took 0.5 s at 100k papers, the newest 2,000 about 30 ms. For a rarer term the
    planner scans the GIN index and sorts the few matches by id instead.
    """
    where = " AND ".join(["d.tsv @@ to_tsquery('simple', :q)", *conditions])
    newest = f"SELECT d.* FROM search_documents d WHERE {where} ORDER BY d.id DESC LIMIT {ranked}"
    sql = (
        "SELECT d.arxiv_id, 10 * ts_rank('{0.1, 0.3, 0.6, 1.0}', d.tsv, q) AS score, "
        f"d.votes, d.day, d.title_tokens FROM ({newest}) d, to_tsquery('simple', :q) q"
    )
    return sql, " ORDER BY score DESC"


def title_boost(positive: list[list[list[str]]], title_tokens: str) -> float:
    """1 + the share of query terms found in the title: a title match means "about this"."""
    if not positive or not title_tokens:
        return 1.0
    words = f" {title_tokens} "
    found = sum(
        any(_in_tokens(tokens, words) for tokens in alternatives) for alternatives in positive
    )
    return 1.0 + found / len(positive)


def _in_tokens(tokens: list[str], spaced: str) -> bool:
    """Whether the phrase `tokens` occurs in `spaced` (tokens between single spaces)."""
    if not any(token.endswith(PREFIX) for token in tokens):
        return f" {' '.join(tokens)} " in spaced
    return _phrase_pattern(tuple(tokens)).search(spaced) is not None


@lru_cache(maxsize=1024)
def _phrase_pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """A regular expression finding a phrase with prefix tokens in a spaced token string."""
    parts = [
        re.escape(token.removesuffix(PREFIX)) + (r"\S*" if token.endswith(PREFIX) else "")
        for token in tokens
    ]
    return re.compile(" " + " ".join(parts) + " ")


async def _loose_candidates(
    session: AsyncSession, *, parsed: ParsedQuery, authors: AuthorSets
) -> list[tuple[str, float, int | None, dt.date]]:
    """Too few papers have every word: those with most of them, ranked below (score × 0.3).

    Words no paper has (a typo, a word the archive never uses) are dropped first, wherever
    they stand, and the rest ranks as if they had not been typed. Then each remaining word
    is left out in turn, the rarest first (the likeliest odd one out), `LOOSE_VARIANTS`
    queries at most.
    """
    counts = await _match_counts(session, parsed.words)
    alive = [(word, count) for word, count in zip(parsed.words, counts, strict=True) if count]
    words = [word for word, _ in alive]
    variants: list[tuple[list[str], float]] = []
    if len(words) < len(parsed.words) and (words or parsed.phrases):
        variants.append((words, 1.0))
    if len(words) > 1:
        rarest = sorted(range(len(words)), key=lambda index: alive[index][1])
        variants += [(words[:index] + words[index + 1 :], 0.3) for index in rarest]
    found: dict[str, tuple[str, float, int | None, dt.date]] = {}
    for kept, factor in variants[:LOOSE_VARIANTS]:
        loose = ParsedQuery(
            words=kept, phrases=parsed.phrases, excluded=parsed.excluded, dates=parsed.dates
        )
        for arxiv_id, score, votes, day in await _candidates(
            session, parsed=loose, authors=authors, ranked=LOOSE_RANKED_MATCHES
        ):
            if arxiv_id not in found or found[arxiv_id][1] < score * factor:
                found[arxiv_id] = (arxiv_id, score * factor, votes, day)
    return list(found.values())


async def _match_counts(session: AsyncSession, words: Sequence[str]) -> list[int]:
    """How many papers each word matches on its own, counted up to `RARE_MATCHES`."""
    expressions = [_terms(ParsedQuery(words=[word]))[0] for word in words]
    postgres = _dialect(session) == "postgresql"
    columns: list[str] = []
    params: dict[str, str] = {}
    for number, positive in enumerate(expressions):
        if not positive:
            columns.append("0")
            continue
        if postgres:
            params[f"q{number}"] = tsquery_expression(positive, [])
            matching = (
                f"SELECT 1 FROM search_documents d WHERE d.tsv @@ to_tsquery('simple', :q{number})"
            )
        else:
            params[f"q{number}"] = fts5_expression(positive, [])
            matching = f"SELECT 1 FROM search_fts WHERE search_fts MATCH :q{number}"
        columns.append(f"(SELECT count(*) FROM ({matching} LIMIT {RARE_MATCHES}) m{number})")
    row = (await session.execute(text("SELECT " + ", ".join(columns)), params)).one()
    return [int(count) for count in row]


def _as_date(value: Any) -> dt.date:
    """A date from what the driver returns (SQLite text through raw SQL)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def combined_score(text_score: float, *, votes: int | None, age_days: int) -> float:
    """The ranking formula of this module's docstring."""
    popularity = 1 + 0.15 * math.log1p(max(votes or 0, 0))
    recency = 1 + 0.3 * math.exp(-max(age_days, 0) / 180)
    return text_score * popularity * recency


async def _author_filter(session: AsyncSession, parsed: ParsedQuery) -> AuthorSets:
    """Per `author:` part, the ids of the authors it may name (None when the query has none)."""
    if not parsed.authors:
        return None
    found: list[list[int]] = []
    for name in parsed.authors[:4]:
        hits = await search_authors(session, query=name, limit=20)
        found.append([author_id for hit in hits for author_id in hit.ids])
    return found


def _names_author(terms: Sequence[str], normalized: str) -> bool:
    """Whether every query term is a word of the name, or an initial of one (`y` for `yann`)."""
    words = normalized.split()
    return all(
        term in words or (len(term) == 1 and any(w.startswith(term) for w in words))
        for term in terms
    ) and any(len(term) > 1 for term in terms)


async def _author_candidates(
    session: AsyncSession, *, parsed: ParsedQuery, base: float
) -> list[tuple[str, float, int | None, dt.date]]:
    """Papers of authors the plain words fully name (`Y. LeCun`, `lecun yann`), ranked first."""
    text_ = " ".join(parsed.words)
    terms = author_terms(text_)
    if not terms or len(parsed.words) > 4 or parsed.phrases or _has_hangul(text_):
        return []
    hits = await search_authors(session, query=text_, limit=5)
    named = [hit for hit in hits if _names_author(terms, _fold_name(hit.name))][:3]
    ids = [author_id for hit in named for author_id in hit.ids]
    if not ids:
        return []
    statement = text(
        "SELECT d.arxiv_id, d.votes, d.day FROM search_documents d JOIN paper_authors pa "
        "ON pa.arxiv_id = d.arxiv_id WHERE pa.author_id IN :ids LIMIT 200"
    ).bindparams(bindparam("ids", expanding=True))
    rows = await session.execute(statement, {"ids": ids})
    return [(row[0], base, row[1], _as_date(row[2])) for row in rows]


def _has_hangul(value: str) -> bool:
    """Whether `value` holds a Hangul syllable."""
    return any("\uac00" <= ch <= "\ud7a3" for ch in value)


async def _titles(
    session: AsyncSession, *, ids: Sequence[str]
) -> dict[str, tuple[str, int | None, dt.date]]:
    """Title, votes and last day of each paper."""
    columns = (_PAPERS.c.arxiv_id, _PAPERS.c.title, _PAPERS.c.latest_votes, _PAPERS.c.last_seen)
    rows = await session.execute(select(*columns).where(_PAPERS.c.arxiv_id.in_(ids)))
    return {row.arxiv_id: (row.title, row.latest_votes, row.last_seen) for row in rows}


async def search_papers(
    session: AsyncSession, *, query: str, limit: int = 10, offset: int = 0
) -> list[SearchHit]:
    """Papers matching `query` (see storage.analysis for the language), best first."""
    parsed = parse_query(query)
    limit, offset = max(0, min(limit, 100)), max(0, min(offset, _CANDIDATES))
    scored: dict[str, float] = {}
    direct = await _titles(session, ids=parsed.arxiv_ids[:10]) if parsed.arxiv_ids else {}
    for rank, arxiv_id in enumerate(parsed.arxiv_ids):
        if arxiv_id in direct:
            scored.setdefault(arxiv_id, ID_SCORE - rank)
    authors = await _author_filter(session, parsed)
    candidates = await _candidates(session, parsed=parsed, authors=authors)
    if len(candidates) < offset + limit and len(parsed.words) > 1:
        candidates += await _loose_candidates(session, parsed=parsed, authors=authors)
    best = max((score for _, score, _, _ in candidates), default=10.0)
    candidates += await _author_candidates(session, parsed=parsed, base=2 * best)
    if candidates:
        newest = await session.scalar(select(func.max(DOCUMENTS.c.day)))
        newest = _as_date(newest) if newest is not None else dt.date.min
        for arxiv_id, text_score, votes, day in candidates:
            score = combined_score(text_score, votes=votes, age_days=(newest - day).days)
            scored[arxiv_id] = max(score, scored.get(arxiv_id, 0.0))
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[offset : offset + limit]
    info = await _titles(session, ids=[arxiv_id for arxiv_id, _ in ranked])
    return [
        SearchHit(
            arxiv_id, info[arxiv_id][0], round(score, 6), info[arxiv_id][1], info[arxiv_id][2]
        )
        for arxiv_id, score in ranked
        if arxiv_id in info
    ]


# --- Author queries ---------------------------------------------------------------------------


AUTHOR_MATCHES = 500  # prefix matches ranked per author query, the likeliest first


def _author_match(session: AsyncSession, terms: list[str]) -> tuple[str, dict[str, Any]]:
    """SQL selecting (id, name, normalized) of authors having a word starting with each term.

    A short query (`li`) begins the words of thousands of names: the `AUTHOR_MATCHES` kept
    for scoring are those with most whole-word matches, then most papers.
    """
    params: dict[str, Any] = {f"w{number}": f"% {term} %" for number, term in enumerate(terms)}
    whole = " + ".join(
        f"CASE WHEN ' ' || a.normalized || ' ' LIKE :w{number} THEN 1 ELSE 0 END"
        for number in range(len(terms))
    )
    papers = "(SELECT count(*) FROM paper_authors pa WHERE pa.author_id = a.id)"
    order = f" ORDER BY {whole} DESC, {papers} DESC, a.id LIMIT {AUTHOR_MATCHES}"
    if _dialect(session) == "postgresql":
        params["q"] = " & ".join(f"'{term}':*" for term in terms)
        sql = (
            "SELECT a.id, a.name, a.normalized FROM authors a "
            "WHERE to_tsvector('simple', a.normalized) @@ to_tsquery('simple', :q)"
        )
        return sql + order, params
    params["q"] = " AND ".join(f'"{term}"*' for term in terms)
    sql = (
        "SELECT a.id, a.name, a.normalized FROM author_fts JOIN authors a "
        "ON a.id = author_fts.rowid WHERE author_fts MATCH :q"
    )
    return sql + order, params


def author_score(terms: Sequence[str], normalized: str, paper_count: int) -> float:
    """How well folded name words fit the query: whole words and order count, then papers."""
    words = normalized.split()
    whole = sum(term in words for term in terms) / len(terms)
    exact = 1.0 if words == list(terms) else 0.0
    ordered = (
        0.3
        if [w for w in words if any(w.startswith(t) for t in terms)]
        == [w for t in terms for w in words if w.startswith(t)]
        else 0.0
    )
    return round(whole + exact + ordered + 0.2 * math.log1p(paper_count), 6)


async def search_authors(session: AsyncSession, *, query: str, limit: int = 10) -> list[AuthorHit]:
    """Authors and organisations fitting `query` despite case, accents, initials and order.

    Spellings of one name that fold alike (`Alexander M. Rush`, `Alexander M Rush`) are one
    hit with the papers of all of them.
    """
    terms = [term for term in author_terms(query) if term.replace("'", "")]
    if not terms or limit <= 0:
        return []
    sql, params = _author_match(session, [term.replace("'", "") for term in terms])
    rows = (await session.execute(text(sql), params)).all()
    counts = await _paper_counts(session, ids=[row.id for row in rows])
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.normalized, []).append(row)
    shared = await _group_paper_counts(
        session, ids=[row.id for rows_ in groups.values() if len(rows_) > 1 for row in rows_]
    )
    hits = []
    for normalized, spellings in groups.items():
        spellings.sort(key=lambda row: (-counts.get(row.id, 0), row.name.isascii(), row.id))
        first = spellings[0]
        count = shared.get(normalized, counts.get(first.id, 0))
        ids = tuple(row.id for row in spellings) if len(spellings) > 1 else ()
        score = author_score(terms, normalized, count)
        hits.append(AuthorHit(first.id, first.name, count, score, ids))
    hits.sort(key=lambda hit: (-hit.score, hit.name))
    return hits[:limit]


async def _group_paper_counts(session: AsyncSession, *, ids: Sequence[int]) -> dict[str, int]:
    """Papers per folded name over the given author ids (a paper listing two spellings once)."""
    if not ids:
        return {}
    query = (
        select(_AUTHORS.c.normalized, func.count(func.distinct(_PAPER_AUTHORS.c.arxiv_id)))
        .join(_AUTHORS, _AUTHORS.c.id == _PAPER_AUTHORS.c.author_id)
        .where(_PAPER_AUTHORS.c.author_id.in_(list(ids)))
        .group_by(_AUTHORS.c.normalized)
    )
    return {row[0]: row[1] for row in await session.execute(query)}


async def spelling_ids(session: AsyncSession, *, author_id: int) -> list[int]:
    """The ids of every author whose name folds like this one's (this one first); [] if none."""
    normalized = await session.scalar(
        select(_AUTHORS.c.normalized).where(_AUTHORS.c.id == author_id)
    )
    if normalized is None:
        return []
    query = select(_AUTHORS.c.id).where(_AUTHORS.c.normalized == normalized).order_by("id")
    others = [found for found in await session.scalars(query) if found != author_id]
    return [author_id, *others]


async def _paper_counts(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, int]:
    """How many papers list each author."""
    counts: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = (
            select(_PAPER_AUTHORS.c.author_id, func.count())
            .where(_PAPER_AUTHORS.c.author_id.in_(chunk))
            .group_by(_PAPER_AUTHORS.c.author_id)
        )
        counts.update((row[0], row[1]) for row in await session.execute(query))
    return counts
