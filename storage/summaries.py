"""Generated Korean summaries: which papers need one, the claim, the outcome, and the reads.

Keyword-only, takes the session, never commits: the caller owns the transaction. One `summaries`
row per (paper, model, prompt version) is both the cache and the claim. Its `lease_until` says
when the row may be claimed again: a `claimed` row's lease runs out if its worker died, a
`failed` row whose endpoint was unreachable may be retried after a cool-down, and NULL (a `done`
row, or one whose text was rejected twice) means never for this model and prompt version.

Claims take turns (a PostgreSQL transaction-scoped advisory lock; on SQLite the write lock, taken
up front): the daily cap is a count followed by an insert, which must not interleave. The claim
itself is an INSERT … ON CONFLICT DO NOTHING or an UPDATE … WHERE the lease ran out, so even
without the turn a row is claimed by one worker only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import Table, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import SummarySection
from storage.models import (
    Author,
    DigestEntry,
    GeneratedSummary,
    PaperAuthor,
    StoredDigest,
    StoredPaper,
)

ClaimOutcome = Literal["claimed", "done", "failed", "busy", "capped"]
MAX_ATTEMPTS = 6  # model calls per row over all its claims: an endpoint down for days stops costing
REJECTED = "rejected: "  # the prefix of `error` when the model's text failed validation
_SUMMARIES = cast(Table, GeneratedSummary.__table__)
_CLAIM_LOCK = 0x73756D6D  # "summ": any constant shared by every paperboy process
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class SummaryCandidate:
    """A paper that may get a summary: what the prompt needs, and what is already known.

    `has_korean`: a latest Markdown digest of the day gave it a Korean summary. `state`: its
    row for this model and prompt version (None when there is none).
    """

    arxiv_id: str
    date: dt.date
    title: str
    abstract: str | None
    ai_summary: str | None
    ai_keywords: tuple[str, ...]
    authors: tuple[str, ...]
    votes: int | None
    has_korean: bool
    state: str | None


@dataclass(frozen=True, slots=True)
class SummaryStats:
    """Totals over every generated summary, for /stats."""

    done: int
    failed: int
    rejected: int
    claimed: int
    prompt_tokens: int
    completion_tokens: int


def _key(arxiv_id: str, model: str, prompt_version: int) -> Any:
    """The WHERE clause of one row."""
    return (
        (GeneratedSummary.arxiv_id == arxiv_id)
        & (GeneratedSummary.model == model)
        & (GeneratedSummary.prompt_version == prompt_version)
    )


async def _states(
    session: AsyncSession, *, ids: Sequence[str], model: str, prompt_version: int
) -> dict[str, str]:
    """The row state of each paper in `ids` for this model and prompt version."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(GeneratedSummary.arxiv_id, GeneratedSummary.state).where(
            GeneratedSummary.arxiv_id.in_(ids[start : start + _CHUNK]),
            GeneratedSummary.model == model,
            GeneratedSummary.prompt_version == prompt_version,
        )
        found.update({row.arxiv_id: row.state for row in await session.execute(query)})
    return found


async def _authors(session: AsyncSession, *, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Ordered author names of each paper in `ids`."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(PaperAuthor.arxiv_id, Author.name)
            .join(Author, Author.id == PaperAuthor.author_id)
            .where(PaperAuthor.arxiv_id.in_(ids[start : start + _CHUNK]))
            .order_by(PaperAuthor.arxiv_id, PaperAuthor.position)
        )
        for row in await session.execute(query):
            found.setdefault(row.arxiv_id, []).append(row.name)
    return {arxiv_id: tuple(names) for arxiv_id, names in found.items()}


async def _candidates(
    session: AsyncSession,
    *,
    days: dict[str, tuple[dt.date, int | None, bool]],
    model: str,
    prompt_version: int,
) -> list[SummaryCandidate]:
    """Candidates for the papers of `days` (arXiv id → (date, votes, has Korean)), in order."""
    ids = list(days)
    rows: dict[str, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(StoredPaper).where(StoredPaper.arxiv_id.in_(ids[start : start + _CHUNK]))
        rows.update({paper.arxiv_id: paper for paper in await session.scalars(query)})
    authors = await _authors(session, ids=ids)
    states = await _states(session, ids=ids, model=model, prompt_version=prompt_version)
    return [
        SummaryCandidate(
            arxiv_id=arxiv_id,
            date=day,
            title=rows[arxiv_id].title,
            abstract=rows[arxiv_id].abstract,
            ai_summary=rows[arxiv_id].ai_summary,
            ai_keywords=tuple(rows[arxiv_id].ai_keywords or ()),
            authors=authors.get(arxiv_id, ()),
            votes=votes if votes is not None else rows[arxiv_id].latest_votes,
            has_korean=korean,
            state=states.get(arxiv_id),
        )
        for arxiv_id, (day, votes, korean) in days.items()
        if arxiv_id in rows
    ]


def _has_bullets(summary: Any) -> bool:
    """Whether a stored summary (JSON sections) holds at least one bullet."""
    return any(part.get("bullets") for part in summary or () if isinstance(part, dict))


async def papers_to_summarize(
    session: AsyncSession,
    *,
    dates: Sequence[dt.date],
    model: str,
    prompt_version: int,
    missing_only: bool = True,
) -> list[SummaryCandidate]:
    """The papers of `dates` (latest digest revisions) in day and list order.

    With `missing_only`, papers a latest digest of that day gave a Korean summary are left out.
    Each candidate carries its row state: `done` ones are the cache, not work.
    """
    query = (
        select(StoredDigest.date, DigestEntry.arxiv_id, DigestEntry.votes, DigestEntry.summary)
        .join(StoredDigest, StoredDigest.id == DigestEntry.digest_id)
        .where(StoredDigest.date.in_(list(dates)), StoredDigest.is_latest.is_(True))
        .order_by(StoredDigest.date, DigestEntry.position)
    )
    days: dict[str, tuple[dt.date, int | None, bool]] = {}
    for row in await session.execute(query):
        day, votes, korean = days.get(row.arxiv_id, (row.date, row.votes, False))
        days[row.arxiv_id] = (day, votes, korean or _has_bullets(row.summary))
    if missing_only:
        days = {key: value for key, value in days.items() if not value[2]}
    return await _candidates(session, days=days, model=model, prompt_version=prompt_version)


async def papers_by_id(
    session: AsyncSession, *, arxiv_ids: Sequence[str], model: str, prompt_version: int
) -> list[SummaryCandidate]:
    """Candidates for these archived papers (unknown ids left out), dated their last day."""
    query = select(StoredPaper.arxiv_id, StoredPaper.last_seen).where(
        StoredPaper.arxiv_id.in_(list(arxiv_ids))
    )
    seen = {row.arxiv_id: row.last_seen for row in await session.execute(query)}
    days: dict[str, tuple[dt.date, int | None, bool]] = {
        i: (seen[i], None, False) for i in dict.fromkeys(arxiv_ids) if i in seen
    }
    return await _candidates(session, days=days, model=model, prompt_version=prompt_version)


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT (for ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_SUMMARIES)


async def _take_turn(session: AsyncSession) -> None:
    """Wait until no other claim is being made, for the rest of this transaction."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK})
    else:
        # A write that changes nothing still takes SQLite's write lock (waiting for it under
        # busy_timeout), so the count below is not stale by the time the insert runs.
        await session.execute(update(GeneratedSummary).where(text("1 = 0")).values(attempts=0))


def _day_start(now: dt.datetime) -> dt.datetime:
    """Midnight UTC of `now`'s day."""
    day = now.astimezone(dt.UTC).date()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


async def created_today(session: AsyncSession, *, now: dt.datetime) -> int:
    """Summary rows created on `now`'s UTC day (what the daily cap counts)."""
    start = _day_start(now)
    query = select(func.count()).where(
        GeneratedSummary.created_at >= start,
        GeneratedSummary.created_at < start + dt.timedelta(days=1),
    )
    return int((await session.execute(query)).scalar_one())


async def claim_summary(
    session: AsyncSession,
    *,
    arxiv_id: str,
    model: str,
    prompt_version: int,
    worker: str,
    now: dt.datetime,
    lease: dt.timedelta,
    daily_cap: int,
) -> ClaimOutcome:
    """Claim the paper's row for `worker` until `now + lease`, or say why not.

    A new row counts against `daily_cap` (rows created this UTC day); taking over a row whose
    lease ran out does not, as that row was counted when it was created.
    """
    await _take_turn(session)
    key = _key(arxiv_id, model, prompt_version)
    row = (await session.execute(select(GeneratedSummary.state).where(key))).first()
    if row is None:
        if await created_today(session, now=now) >= daily_cap:
            return "capped"
        values = {
            "arxiv_id": arxiv_id,
            "model": model,
            "prompt_version": prompt_version,
            "state": "claimed",
            "sections": [],
            "attempts": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "claimed_by": worker,
            "lease_until": now + lease,
            "created_at": now,
            "updated_at": now,
        }
        insert = _insert(session).values(values).on_conflict_do_nothing()
        inserted = await session.execute(insert.returning(_SUMMARIES.c.arxiv_id))
        return "claimed" if inserted.first() is not None else "busy"
    if row.state == "done":
        return "done"
    takeover = (
        update(GeneratedSummary)
        .where(key, GeneratedSummary.state != "done")
        .where(GeneratedSummary.lease_until.isnot(None), GeneratedSummary.lease_until < now)
        .where(or_(GeneratedSummary.state == "claimed", GeneratedSummary.attempts < MAX_ATTEMPTS))
        .values(state="claimed", claimed_by=worker, lease_until=now + lease, updated_at=now)
        .returning(GeneratedSummary.arxiv_id)
    )
    if (await session.execute(takeover)).first() is not None:
        return "claimed"
    return "failed" if row.state == "failed" else "busy"


async def _finish(
    session: AsyncSession,
    *,
    arxiv_id: str,
    model: str,
    prompt_version: int,
    worker: str,
    values: dict[str, Any],
) -> bool:
    """Set `values` on a row this worker still holds; False when the claim was lost."""
    statement = (
        update(GeneratedSummary)
        .where(_key(arxiv_id, model, prompt_version))
        .where(GeneratedSummary.state == "claimed", GeneratedSummary.claimed_by == worker)
        .values(
            attempts=GeneratedSummary.attempts + values.pop("attempts"),
            prompt_tokens=GeneratedSummary.prompt_tokens + values.pop("prompt_tokens"),
            completion_tokens=GeneratedSummary.completion_tokens + values.pop("completion_tokens"),
            **values,
        )
        .returning(GeneratedSummary.arxiv_id)
    )
    return (await session.execute(statement)).first() is not None


async def complete_summary(
    session: AsyncSession,
    *,
    arxiv_id: str,
    model: str,
    prompt_version: int,
    worker: str,
    sections: Sequence[SummarySection],
    block: str,
    attempts: int,
    prompt_tokens: int,
    completion_tokens: int,
    now: dt.datetime,
) -> bool:
    """Store a validated summary on the worker's claimed row; False when the claim was lost."""
    values: dict[str, Any] = {
        "state": "done",
        "sections": [{"title": s.title, "bullets": list(s.bullets)} for s in sections],
        "block": block,
        "error": None,
        "attempts": attempts,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "lease_until": None,
        "updated_at": now,
    }
    return await _finish(
        session,
        arxiv_id=arxiv_id,
        model=model,
        prompt_version=prompt_version,
        worker=worker,
        values=values,
    )


async def fail_summary(
    session: AsyncSession,
    *,
    arxiv_id: str,
    model: str,
    prompt_version: int,
    worker: str,
    error: str,
    retry_at: dt.datetime | None,
    attempts: int,
    prompt_tokens: int,
    completion_tokens: int,
    now: dt.datetime,
) -> bool:
    """Mark the worker's claimed row failed; `retry_at` None means final for this prompt."""
    values: dict[str, Any] = {
        "state": "failed",
        "error": error[:1000],
        "attempts": attempts,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "lease_until": retry_at,
        "updated_at": now,
    }
    return await _finish(
        session,
        arxiv_id=arxiv_id,
        model=model,
        prompt_version=prompt_version,
        worker=worker,
        values=values,
    )


async def summary_stats(session: AsyncSession) -> SummaryStats:
    """Rows by state (rejected: failed because the text failed validation) and token totals."""
    query = select(
        GeneratedSummary.state,
        func.count(),
        func.coalesce(func.sum(GeneratedSummary.prompt_tokens), 0),
        func.coalesce(func.sum(GeneratedSummary.completion_tokens), 0),
    ).group_by(GeneratedSummary.state)
    counts: dict[str, int] = {}
    prompt = completion = 0
    for state, count, prompt_sum, completion_sum in await session.execute(query):
        counts[state] = int(count)
        prompt += int(prompt_sum)
        completion += int(completion_sum)
    rejected_query = select(func.count()).where(
        GeneratedSummary.state == "failed", GeneratedSummary.error.startswith(REJECTED)
    )
    return SummaryStats(
        done=counts.get("done", 0),
        failed=counts.get("failed", 0),
        rejected=int((await session.execute(rejected_query)).scalar_one()),
        claimed=counts.get("claimed", 0),
        prompt_tokens=prompt,
        completion_tokens=completion,
    )


async def done_summaries(
    session: AsyncSession, *, arxiv_ids: Sequence[str]
) -> dict[str, tuple[tuple[SummarySection, ...], str]]:
    """arXiv id → (sections, model) of the paper's newest `done` summary (any prompt version)."""
    found: dict[str, tuple[tuple[SummarySection, ...], str]] = {}
    ids = list(dict.fromkeys(arxiv_ids))
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(GeneratedSummary.arxiv_id, GeneratedSummary.sections, GeneratedSummary.model)
            .where(GeneratedSummary.arxiv_id.in_(ids[start : start + _CHUNK]))
            .where(GeneratedSummary.state == "done")
            .order_by(GeneratedSummary.updated_at, GeneratedSummary.prompt_version)
        )
        for row in await session.execute(query):
            sections = tuple(
                SummarySection(title=part.get("title"), bullets=tuple(part.get("bullets", ())))
                for part in row.sections or ()
            )
            found[row.arxiv_id] = (sections, row.model)  # later rows are newer: they win
    return found
