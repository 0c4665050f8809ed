"""Author queries: names fitting a query despite case, accents, initials and order, with
the spellings of one person taken together."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.analysis import author_terms
from storage.models import Author, PaperAuthor

_AUTHORS: Table = Author.__table__  # type: ignore[assignment]
_PAPER_AUTHORS: Table = PaperAuthor.__table__  # type: ignore[assignment]


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


def _dialect(session: AsyncSession) -> str:
    """The session's database dialect name."""
    return session.get_bind().dialect.name


AUTHOR_MATCHES = 200  # prefix matches ranked per author query, the likeliest first


def _author_match(session: AsyncSession, terms: list[str]) -> tuple[str, dict[str, Any]]:
    """SQL selecting (id, name, normalized, papers, spelling_papers) of authors having a word
    starting with each term.

    A short query (`li`) begins the words of thousands of names: the `AUTHOR_MATCHES` kept
    for scoring are the name itself, then those with most whole-word matches, then most
    papers: `paper_count` (kept at ingest: counting each match's papers here was the slowest
    search at 100k papers) summed over the spellings that fold alike, ranked as one.
    """
    params: dict[str, Any] = {f"w{number}": f"% {term} %" for number, term in enumerate(terms)}
    whole = " + ".join(
        f"CASE WHEN ' ' || a.normalized || ' ' LIKE :w{number} THEN 1 ELSE 0 END"
        for number in range(len(terms))
    )
    papers = (
        "a.paper_count AS papers, "
        "sum(a.paper_count) OVER (PARTITION BY a.normalized) AS spelling_papers"
    )
    params["exact"] = " ".join(terms)  # the name itself (`liu`) outranks every `… liu`
    exact = "CASE WHEN a.normalized = :exact THEN 1 ELSE 0 END"
    order = (
        f" ORDER BY {exact} DESC, {whole} DESC, 5 DESC, a.normalized, a.id LIMIT {AUTHOR_MATCHES}"
    )
    if _dialect(session) == "postgresql":
        params["q"] = " & ".join(f"'{term}':*" for term in terms)
        sql = (
            f"SELECT a.id, a.name, a.normalized, {papers} FROM authors a "
            "WHERE to_tsvector('simple', a.normalized) @@ to_tsquery('simple', :q)"
        )
        return sql + order, params
    params["q"] = " AND ".join(f'"{term}"*' for term in terms)
    sql = (
        f"SELECT a.id, a.name, a.normalized, {papers} FROM author_fts JOIN authors a "
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
    groups: dict[str, list[Any]] = {}
    for row in (await session.execute(text(sql), params)).all():
        groups.setdefault(row.normalized, []).append(row)
    for spellings in groups.values():
        spellings.sort(key=lambda row: (-row.papers, row.name.isascii(), row.id))
    # Ranked first by the spellings' summed counts; only the kept hits of several spellings
    # then have their papers counted once each (one paper rarely lists two spellings).
    ranked = sorted(
        groups.items(),
        key=lambda item: (
            -author_score(terms, item[0], item[1][0].spelling_papers),
            item[1][0].name,
        ),
    )[:limit]
    shared = await _group_paper_counts(
        session, ids=[row.id for _, rows in ranked if len(rows) > 1 for row in rows]
    )
    hits = []
    for normalized, spellings in ranked:
        first = spellings[0]
        count = shared.get(normalized, first.papers)
        ids = tuple(row.id for row in spellings) if len(spellings) > 1 else ()
        score = author_score(terms, normalized, count)
        hits.append(AuthorHit(first.id, first.name, count, score, ids))
    hits.sort(key=lambda hit: (-hit.score, hit.name))
    return hits


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
