"""Votes that keep moving: the latest count on each paper and the history of what was observed.

Keyword-only functions that take the session and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StoredPaper, VoteObservation

_PAPERS = cast(Table, StoredPaper.__table__)
_HISTORY = cast(Table, VoteObservation.__table__)
_CHUNK = 500


async def record_votes(session: AsyncSession, *, votes: Mapping[str, int], now: dt.datetime) -> int:
    """Set each archived paper's latest votes and keep the observation where it changed.

    Papers not in the archive yet are left out (they are stored with their digest). The first
    observation of a paper is kept too, so its history starts where paperboy first saw it.
    Returns how many papers changed.
    """
    ids = list(votes)
    current: dict[str, int | None] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(_PAPERS.c.arxiv_id, _PAPERS.c.latest_votes).where(
            _PAPERS.c.arxiv_id.in_(ids[start : start + _CHUNK])
        )
        current.update((row.arxiv_id, row.latest_votes) for row in await session.execute(query))
    seen = await _observed(session, ids=list(current))
    changed = [i for i in current if current[i] != votes[i]]
    fresh = [i for i in current if i in changed or i not in seen]
    if changed:
        statement = (
            update(_PAPERS)
            .where(_PAPERS.c.arxiv_id == bindparam("key"))
            .values(latest_votes=bindparam("votes"))
        )
        rows = [{"key": i, "votes": votes[i]} for i in changed]
        await session.execute(statement, rows)
    if fresh:
        rows = [{"arxiv_id": i, "observed_at": now, "votes": votes[i]} for i in fresh]
        await session.execute(_HISTORY.insert(), rows)
    return len(changed)


async def _observed(session: AsyncSession, *, ids: Sequence[str]) -> set[str]:
    """The papers among `ids` that already have a vote history."""
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(_HISTORY.c.arxiv_id).where(_HISTORY.c.arxiv_id.in_(chunk)).distinct()
        found.update(await session.scalars(query))
    return found


async def vote_history(session: AsyncSession, *, arxiv_id: str) -> list[tuple[dt.datetime, int]]:
    """A paper's observed vote counts, oldest first."""
    query = (
        select(_HISTORY.c.observed_at, _HISTORY.c.votes)
        .where(_HISTORY.c.arxiv_id == arxiv_id)
        .order_by(_HISTORY.c.observed_at)
    )
    return [(row.observed_at, row.votes) for row in await session.execute(query)]
