"""Full-text search over the archive: paper queries (indexing is storage.search_index,
author queries storage.author_search).

One `search_documents` row per paper holds pre-analysed tokens (storage.analysis) for its
title, authors and summary/abstract. SQLite indexes them with an FTS5 table (unicode61 only
splits on the spaces we put there); PostgreSQL with a generated tsvector ('simple' config) and
GIN. Queries are built from our own quoted tokens only, never from raw user text.

Ranking (documented contract):
    score = text × (1 + 0.15·ln(1 + votes)) × (1 + 0.3·exp(−age_days / 180))
where `text` is FTS5 BM25 negated (column weights title 5, authors 3, body 1; on PostgreSQL
ts_rank with weights A=1, B=0.6, C=0.3 scaled ×10) times a title boost (1 + 2 × the share of
query terms whose tokens appear as a phrase in the title, or, for the English translation of a
Korean term, whose words' families all appear there in any order; a term counts half when only
the last word of its English phrase does: `segmentation` for *semantic segmentation*, or only a
related term of its concept: `RoPE` for `위치 인코딩`, storage.related_terms), `votes` the paper's
latest vote count and `age_days` its distance from the newest paper in the archive (not the wall
clock, so results do not drift). The 200 best BM25 candidates are re-ranked with this formula. A
paper named by an arXiv id or URL in the query comes first with score 1e6. A query matching more
than `RANKED_MATCHES` papers (a single very common word) is ranked over only the newest
`RANKED_MATCHES` of them, by FTS5 rowid or by document id (papers are indexed as days arrive):
such a word says little about relevance, and ranking every match was the slow tail at 100k.
PostgreSQL, which reads each ranked match's whole tsvector, ranks `POSTGRES_RANKED_MATCHES`,
found for a common query among the newest documents first (`_newest_window`): reading every
match, or walking the newest rows and detoasting each tsvector, was its slow tail.
The fallback for a query whose words do not all match together drops the words no paper has
(scores unchanged; PostgreSQL takes a word whose tokens are together in `RARE_MATCHES` papers
or more for a common one without checking its phrase: `_match_counts`), then leaves each
remaining word out in turn, rarest first (scores × 0.3, `LOOSE_VARIANTS` queries at most; two
words are one query for either word, not counted first); it ranks at most
`LOOSE_RANKED_MATCHES` newest matches per variant (`POSTGRES_LOOSE_RANKED_MATCHES`), and
leaves the words' related terms out.
A query's `expansion` (English phrases a model gave for a Korean query's meaning:
bot.content.expansion) is one more candidate query, any of its phrases matching (with the
query's filters and exclusions); a paper it finds adds `EXPANSION_WEIGHT` × that score (title
boost and all) to its own, and ranks with the whole-query matches.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.analysis import RELATED, TITLE_WORDS, ParsedQuery, author_terms, parse_query
from storage.author_search import AuthorHit, search_authors
from storage.models import StoredPaper
from storage.names import normalize_name as _fold_name
from storage.search_index import DOCUMENTS
from storage.search_query import (
    AuthorSets,
    fts5_expression,
    query_filters,
    query_terms,
    translation_tokens,
    tsquery_expression,
    without_related,
)
from storage.search_ranking import TitleBoost, combined_score

_CANDIDATES = 200
# A query matching more papers ranks only this many, the newest indexed (see the docstring).
RANKED_MATCHES = 2000
# The fallback for queries whose words do not all match (score × 0.3) ranks fewer still.
LOOSE_RANKED_MATCHES = 500
# PostgreSQL reads (detoasts) each ranked match's tsvector for ts_rank: it ranks fewer.
POSTGRES_RANKED_MATCHES = 200
POSTGRES_LOOSE_RANKED_MATCHES = 100
LOOSE_VARIANTS = 5  # fallback queries at most, each leaving out one word
RARE_MATCHES = 50  # a word's matches are counted up to this, to find the rarest words
ID_SCORE = 1e6
# A query's expansion (English phrases a model gave for its meaning: bot.content.expansion):
# at most this many phrases; a paper they match adds EXPANSION_WEIGHT × its score for them to
# its score for the query's own words (chosen on the dev splits: 0.1–1, added or the larger).
MAX_EXPANSION = 12
EXPANSION_WEIGHT = 0.2
_PAPERS: Table = StoredPaper.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A paper found by `search_papers`, best first."""

    arxiv_id: str
    title: str
    score: float
    votes: int | None
    last_seen: dt.date
    # Found by the loose fallback with only part of the query's words (after every whole match).
    partial: bool = False


def _dialect(session: AsyncSession) -> str:
    """The session's database dialect name."""
    return session.get_bind().dialect.name


async def _candidates(
    session: AsyncSession,
    *,
    parsed: ParsedQuery,
    authors: AuthorSets,
    ranked: int | None = None,
    positive: list[list[list[str]]] | None = None,
    related: bool = True,
) -> list[tuple[str, float, int | None, dt.date]]:
    """Up to 200 (arxiv_id, text score, votes, day) by text relevance, or by votes without text.

    `positive` replaces the parsed query's positive terms (the fallback's OR of two words);
    without `related`, the terms' related alternatives are left out (the fallback's: they
    doubled its cost on queries of common concepts, for papers holding only part of a query).
    """
    postgres = _dialect(session) == "postgresql"
    if ranked is None:  # read late: tests lower them
        ranked = POSTGRES_RANKED_MATCHES if postgres else RANKED_MATCHES
    elif postgres:
        ranked = min(ranked, POSTGRES_LOOSE_RANKED_MATCHES)
    terms, negative = query_terms(parsed)
    positive = terms if positive is None else positive
    if not related:
        positive = without_related(positive)
    conditions, params = query_filters(parsed, authors)
    if not positive and (parsed.has_text or not conditions):
        return []
    if not positive:
        # An author's papers: day and votes from an index, not from rows whose long token
        # columns SQLite walks past (migration 0017; its planner picks the unique index).
        hint = " INDEXED BY ix_search_documents_paper_day" if authors and not postgres else ""
        sql = f"SELECT d.arxiv_id, 1.0 AS score, d.votes, d.day, '' FROM search_documents d{hint}"
        order = " ORDER BY d.day DESC, d.votes DESC"
    elif postgres:
        params["q"] = tsquery_expression(positive, negative)
        params["loose"] = tsquery_expression(positive, [], phrases=False)
        if not conditions:
            newest = await _newest_matches(session, params, positive=positive, ranked=ranked)
            if newest is not None:
                return _scored(newest, positive)
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
    return _scored((await session.execute(statement, params)).all(), positive)


async def _windowed(
    session: AsyncSession, params: dict[str, Any], *, ranked: int, window: int
) -> Sequence[Any]:
    """The candidate rows among the newest `window` documents (see `_tsquery_select`).

    Plain index scans are off for that one statement: the planner picks a scan of the
    primary key's range checking each row's tsvector (detoasting thousands: 50 ms for
    `learn`) over the bitmap AND that reads only the matching rows (2 ms), as it does not
    count the detoasting. The setting is restored at once, whatever happens.
    """
    newest, before = (
        await session.execute(
            text(
                "SELECT max(id), current_setting('enable_indexscan'), "
                "set_config('enable_indexscan', 'off', true) FROM search_documents"
            )
        )
    ).one()[:2]
    try:
        sql, order = _tsquery_select([], ranked=ranked, window=window)
        statement = text(sql + order + f" LIMIT {_CANDIDATES}")
        return (await session.execute(statement, {**params, "floor": (newest or 0) - window})).all()
    finally:
        await session.execute(
            text("SELECT set_config('enable_indexscan', :before, true)"), {"before": before}
        )


def _scored(
    rows: Sequence[Any], positive: list[list[list[str]]]
) -> list[tuple[str, float, int | None, dt.date]]:
    """(arxiv_id, text score × title boost, votes, day) of candidate rows."""
    boost = TitleBoost(positive)
    return [(row[0], float(row[1]) * boost(row[4]), row[2], _as_date(row[3])) for row in rows]


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


def _tsquery_select(
    conditions: list[str], *, ranked: int, window: int | None = None
) -> tuple[str, str]:
    """The PostgreSQL candidate SELECT and ORDER BY: ts_rank over the newest `ranked` matches.

    As on SQLite, a very common term is ranked over its newest matches only: ranking all
    50,000 matches of one took 0.5 s at 100k papers. The newest are found with the phrases'
    tokens only ANDed (`:loose`, which GIN answers without reading a tsvector); the phrases
    and exclusions (`:q`) are checked on the `ranked` rows only, which ts_rank reads anyway.
    GIN finds every match and their rows are sorted by id (`d.id + 0` keeps the planner off
    a backward walk of the primary key, which reads, and detoasts, every row it passes).
    With `window`, only the newest `window` documents are searched (a bitmap AND of GIN and
    the primary key's range), so a common query reads about `window` × density rows instead
    of all its matches; the last column counts the newest matches found there, and fewer
    than `ranked` means the window was too small (the caller asks again without it).
    """
    where = " AND ".join(["d.tsv @@ to_tsquery('simple', :loose)", *conditions])
    if window is not None:
        where += " AND d.id > :floor"
    newest = f"SELECT d.* FROM search_documents d WHERE {where} ORDER BY d.id + 0 DESC"
    found = ", d.found" if window is not None else ""
    rows = f"({newest} LIMIT {ranked}) d"
    if window is not None:
        rows = f"(SELECT n.*, count(*) OVER () AS found FROM {rows.removesuffix(' d')} n) d"
    sql = (
        "SELECT d.arxiv_id, 10 * ts_rank('{0.1, 0.3, 0.6, 1.0}', d.tsv, q) AS score, "
        f"d.votes, d.day, d.title_tokens{found} FROM {rows}, to_tsquery('simple', :q) q "
        "WHERE d.tsv @@ q"
    )
    return sql, " ORDER BY score DESC"


_STATS_SECONDS = 600.0  # how long PostgreSQL's lexeme statistics are reused


@dataclass(frozen=True, slots=True)
class LexemeStats:
    """Rows of search_documents, the share of them holding each common lexeme, and the share
    taken for any other lexeme (half the rarest counted: rarer than all of them)."""

    total: float
    freqs: dict[str, float]
    rare: float

    @classmethod
    def of(cls, total: float, freqs: dict[str, float]) -> LexemeStats:
        """The statistics, with `rare` derived from `freqs`."""
        return cls(total, freqs, min(freqs.values(), default=0.0) / 2)


_stats: dict[str, tuple[float, LexemeStats]] = {}


async def _lexeme_stats(session: AsyncSession) -> LexemeStats:
    """The lexeme statistics of ANALYZE (`pg_stats.most_common_elems`: the 10,000 commonest
    lexemes at the target of migration 0012), cached per database for `_STATS_SECONDS`."""
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    cached = _stats.get(key)
    if cached is not None and now - cached[0] < _STATS_SECONDS:
        return cached[1]
    row = (
        await session.execute(
            text(
                "SELECT (SELECT reltuples FROM pg_class WHERE relname = 'search_documents'), "
                "(SELECT most_common_elems::text::text[] FROM pg_stats "
                "WHERE tablename = 'search_documents' AND attname = 'tsv' LIMIT 1), "
                "(SELECT most_common_elem_freqs FROM pg_stats "
                "WHERE tablename = 'search_documents' AND attname = 'tsv' LIMIT 1)"
            )
        )
    ).one()
    stats = LexemeStats.of(float(row[0] or 0), dict(zip(row[1] or [], row[2] or [], strict=False)))
    _stats[key] = (now, stats)
    return stats


WINDOW_FACTOR = 3  # the newest-documents window holds this many times the matches needed
WINDOW_TRIES = 2  # windows tried before all documents are searched


async def _newest_matches(
    session: AsyncSession,
    params: dict[str, Any],
    *,
    positive: list[list[list[str]]],
    ranked: int,
) -> Sequence[Any] | None:
    """The candidate rows of a common query, found among the newest documents (None: search
    them all). A window that held fewer than `ranked` matches is widened once, as much as the
    density it saw says (16 times when it saw none), unless that is the whole archive."""
    stats = await _lexeme_stats(session)
    window = _newest_window(stats, positive, ranked)
    for _ in range(WINDOW_TRIES):
        if window is None:
            return None
        rows = await _windowed(session, params, ranked=ranked, window=window)
        found = rows[0][5] if rows else 0
        if found >= ranked:  # the window held the `ranked` newest matches
            return rows
        wider = window * 16 if found == 0 else math.ceil(window * WINDOW_FACTOR * ranked / found)
        window = wider if wider < stats.total else None
    return None


def _newest_window(stats: LexemeStats, positive: list[list[list[str]]], ranked: int) -> int | None:
    """How many of the newest documents likely hold `WINDOW_FACTOR` × `ranked` matches of the
    query's loose form, when that is fewer than all its matches (None: search them all).

    A phrase's tokens (a word's bigrams) go together: their density is the rarest one's; a
    word's alternatives add up; the query's terms are taken as independent (their densities
    multiply). A lexeme missing from the statistics is rarer than any in them (`rare`). An
    estimate too high makes the window too small: `_newest_matches` widens it.
    """
    if stats.total <= 0 or not stats.freqs:
        return None
    density = 1.0
    for alternatives in positive:
        density *= min(
            1.0,
            sum(
                min(
                    stats.freqs.get(token, stats.rare)
                    for token in tokens
                    if token not in (TITLE_WORDS, RELATED)
                )
                for tokens in alternatives
            ),
        )
    if density * stats.total <= WINDOW_FACTOR * ranked:
        return None
    return math.ceil(WINDOW_FACTOR * ranked / density)


async def _loose_candidates(
    session: AsyncSession, *, parsed: ParsedQuery, authors: AuthorSets
) -> list[tuple[str, float, int | None, dt.date]]:
    """Too few papers have every word: those with most of them, ranked below every paper
    having them all (storage.search.search_papers), by score × 0.3 among themselves.

    Words no paper has (a typo, a word the archive never uses) are dropped first, wherever
    they stand, and the rest ranks as if they had not been typed. Then each remaining word
    is left out in turn, the rarest first (the likeliest odd one out), `LOOSE_VARIANTS`
    queries at most. Two words (and no phrase) skip the counting: one statement finds
    papers with either, a word no paper has finding none (the other's hits score × 0.3
    then, like every loose hit: the order is the same).
    """
    if len(parsed.words) == 2 and not parsed.phrases:  # not counted first (see above)
        return await _either_word(session, parsed=parsed, words=parsed.words, authors=authors)
    counts = await _match_counts(session, parsed.words)
    alive = [(word, count) for word, count in zip(parsed.words, counts, strict=True) if count]
    words = [word for word, _ in alive]
    variants: list[tuple[list[str], float]] = []
    if len(words) < len(parsed.words) and (words or parsed.phrases):
        variants.append((words, 1.0))
    if len(words) == 2 and not variants:
        return await _either_word(session, parsed=parsed, words=words, authors=authors)
    if len(words) > 1:
        rarest = sorted(range(len(words)), key=lambda index: alive[index][1])
        variants += [(words[:index] + words[index + 1 :], 0.3) for index in rarest]
    found: dict[str, tuple[str, float, int | None, dt.date]] = {}
    for kept, factor in variants[:LOOSE_VARIANTS]:
        loose = ParsedQuery(
            words=kept, phrases=parsed.phrases, excluded=parsed.excluded, dates=parsed.dates
        )
        for arxiv_id, score, votes, day in await _candidates(
            session, parsed=loose, authors=authors, ranked=LOOSE_RANKED_MATCHES, related=False
        ):
            if arxiv_id not in found or found[arxiv_id][1] < score * factor:
                found[arxiv_id] = (arxiv_id, score * factor, votes, day)
    return list(found.values())


async def _either_word(
    session: AsyncSession, *, parsed: ParsedQuery, words: list[str], authors: AuthorSets
) -> list[tuple[str, float, int | None, dt.date]]:
    """Papers with either of two words never found together (and the query's phrases and
    filters), scored × 0.3: one statement for both words, not one per word."""
    either = [
        alt for word in words for term in query_terms(ParsedQuery(words=[word]))[0] for alt in term
    ]
    if not either:  # both are words the analysis drops
        return []
    loose = ParsedQuery(phrases=parsed.phrases, excluded=parsed.excluded, dates=parsed.dates)
    hits = await _candidates(
        session,
        parsed=loose,
        authors=authors,
        ranked=LOOSE_RANKED_MATCHES,
        positive=[*query_terms(loose)[0], either],
        related=False,
    )
    return [(arxiv_id, score * 0.3, votes, day) for arxiv_id, score, votes, day in hits]


async def _match_counts(session: AsyncSession, words: Sequence[str]) -> list[int]:
    """How many papers each word matches on its own, counted up to `RARE_MATCHES`.

    PostgreSQL checks a word's phrase (reading each candidate's tsvector) only when its tokens
    are together in fewer than `RARE_MATCHES` papers, which GIN counts without reading one: a
    word of common tokens (`multi image`, a Korean word's bigrams) would read thousands of rows
    to find its phrase rare. Such a word counts as common, so it is left out in turn like any
    other rather than dropped as a word no paper has."""
    expressions = [without_related(query_terms(ParsedQuery(words=[word]))[0]) for word in words]
    postgres = _dialect(session) == "postgresql"
    columns: list[str] = []
    params: dict[str, str] = {}

    def counted(matching: str, name: str) -> str:
        return f"(SELECT count(*) FROM ({matching} LIMIT {RARE_MATCHES}) {name})"

    for number, positive in enumerate(expressions):
        if not positive:
            columns.append("0")
        elif postgres:
            params[f"q{number}"] = tsquery_expression(positive, [])
            params[f"l{number}"] = tsquery_expression(positive, [], phrases=False)
            found = "SELECT 1 FROM search_documents d WHERE d.tsv @@ to_tsquery('simple', :{})"
            loose = counted(found.format(f"l{number}"), f"l{number}")
            exact = counted(found.format(f"q{number}"), f"m{number}")
            columns.append(
                f"CASE WHEN {loose} < {RARE_MATCHES} THEN {exact} ELSE {RARE_MATCHES} END"
            )
        else:
            params[f"q{number}"] = fts5_expression(positive, [])
            matching = f"SELECT 1 FROM search_fts WHERE search_fts MATCH :q{number}"
            columns.append(counted(matching, f"m{number}"))
    row = (await session.execute(text("SELECT " + ", ".join(columns)), params)).one()
    return [int(count) for count in row]


def _as_date(value: Any) -> dt.date:
    """A date from what the driver returns (SQLite text through raw SQL)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


async def _filter_hits(session: AsyncSession, parsed: ParsedQuery) -> list[list[AuthorHit]]:
    """Per `author:` part (4 at most), the authors it may name."""
    return [await search_authors(session, query=name, limit=20) for name in parsed.authors[:4]]


async def _author_filter(session: AsyncSession, parsed: ParsedQuery) -> AuthorSets:
    """Per `author:` part, the ids of the authors it may name (None when the query has none)."""
    if not parsed.authors:
        return None
    found = await _filter_hits(session, parsed)
    return [[author_id for hit in hits for author_id in hit.ids] for hits in found]


async def filter_author_names(session: AsyncSession, query: str) -> set[str]:
    """The folded names (storage.names) the query's `author:` parts may mean, as the filter
    takes them (none without one): a result list shows them first among a paper's authors."""
    found = await _filter_hits(session, parse_query(query))
    return {_fold_name(hit.name) for hits in found for hit in hits}


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


async def _expansion_candidates(
    session: AsyncSession, *, parsed: ParsedQuery, authors: AuthorSets, expansion: Sequence[str]
) -> list[tuple[str, float, int | None, dt.date]]:
    """Papers matching any phrase of the query's expansion (with its filters and exclusions),
    scored × `EXPANSION_WEIGHT`: one term whose alternatives are the phrases."""
    alternatives = [
        tokens for phrase in expansion[:MAX_EXPANSION] for tokens in translation_tokens(phrase)
    ]
    if not alternatives or not parsed.has_text:
        return []
    hits = await _candidates(session, parsed=parsed, authors=authors, positive=[alternatives])
    return [(i, score * EXPANSION_WEIGHT, votes, day) for i, score, votes, day in hits]


async def search_papers(
    session: AsyncSession,
    *,
    query: str,
    limit: int = 10,
    offset: int = 0,
    expansion: Sequence[str] = (),
) -> list[SearchHit]:
    """Papers matching `query` (see storage.analysis for the language), best first; with an
    `expansion` (English phrases for its meaning), also the papers those phrases match."""
    parsed = parse_query(query)
    limit, offset = max(0, min(limit, 100)), max(0, min(offset, _CANDIDATES))
    scored: dict[str, float] = {}
    direct = await _titles(session, ids=parsed.arxiv_ids[:10]) if parsed.arxiv_ids else {}
    for rank, arxiv_id in enumerate(parsed.arxiv_ids):
        if arxiv_id in direct:
            scored.setdefault(arxiv_id, ID_SCORE - rank)
    authors = await _author_filter(session, parsed)
    candidates = await _candidates(session, parsed=parsed, authors=authors)
    extra = []
    if expansion:
        extra = await _expansion_candidates(
            session, parsed=parsed, authors=authors, expansion=expansion
        )
    loose = []
    if len({hit[0] for hit in candidates + extra}) < offset + limit and len(parsed.words) > 1:
        loose = await _loose_candidates(session, parsed=parsed, authors=authors)
    best = max((score for _, score, _, _ in candidates + loose), default=10.0)
    candidates += await _author_candidates(session, parsed=parsed, base=2 * best)
    tiers: dict[str, int] = {}
    if candidates or loose or extra:
        newest = await session.scalar(select(func.max(DOCUMENTS.c.day)))
        newest = _as_date(newest) if newest is not None else dt.date.min
        for tier, found in enumerate((candidates, loose)):
            for arxiv_id, text_score, votes, day in found:
                score = combined_score(text_score, votes=votes, age_days=(newest - day).days)
                if tiers.setdefault(arxiv_id, tier) < tier:
                    continue  # a whole-query match the fallback found again
                scored[arxiv_id] = max(score, scored.get(arxiv_id, 0.0))
        # The expansion's evidence adds to the words' own (a paper both find ranks higher); a
        # paper only it finds ranks with the whole matches: it matches the query's meaning.
        for arxiv_id, text_score, votes, day in extra:
            score = combined_score(text_score, votes=votes, age_days=(newest - day).days)
            if tiers.get(arxiv_id, 0) > 0:
                scored[arxiv_id] = 0.0  # the loose fallback's partial score is not evidence
            tiers[arxiv_id] = 0
            scored[arxiv_id] = scored.get(arxiv_id, 0.0) + score
    # A paper with the whole query ranks above those the loose fallback found with part of it.
    ranked = sorted(scored.items(), key=lambda item: (tiers.get(item[0], 0), -item[1], item[0]))
    ranked = ranked[offset : offset + limit]
    info = await _titles(session, ids=[arxiv_id for arxiv_id, _ in ranked])
    return [
        SearchHit(
            arxiv_id,
            info[arxiv_id][0],
            round(score, 6),
            info[arxiv_id][1],
            info[arxiv_id][2],
            partial=tiers.get(arxiv_id, 0) > 0,
        )
        for arxiv_id, score in ranked
        if arxiv_id in info
    ]
