"""Weekly and monthly tops: the papers featured in a span of days, best first by latest votes.

Keyword-only functions that take the session and never commit.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DigestEntry, StoredDigest, StoredPaper

_DIGESTS = cast(Table, StoredDigest.__table__)
_ENTRIES = cast(Table, DigestEntry.__table__)
_PAPERS = cast(Table, StoredPaper.__table__)


async def top_ids(
    session: AsyncSession, *, start: dt.date, end: dt.date, limit: int
) -> list[tuple[str, int | None]]:
    """(arxiv_id, votes) of the papers featured from `start` to `end` (inclusive), best first.

    Votes are the latest known, the best a digest showed where a paper has none; ties go to
    the lower arXiv id so pages never shift between reads.
    """
    # The digests first, by their date index: filtering on `is_latest` in the same query let
    # SQLite walk every latest digest of the archive instead (10 ms more at 100k papers).
    spanned = select(_DIGESTS.c.id, _DIGESTS.c.is_latest).where(_DIGESTS.c.date.between(start, end))
    ids = [row.id for row in await session.execute(spanned) if row.is_latest]
    if not ids:
        return []
    votes = func.coalesce(_PAPERS.c.latest_votes, func.max(_ENTRIES.c.votes))
    query = (
        select(_ENTRIES.c.arxiv_id, votes.label("votes"))
        .join(_PAPERS, _PAPERS.c.arxiv_id == _ENTRIES.c.arxiv_id)
        .where(_ENTRIES.c.digest_id.in_(ids))
        .group_by(_ENTRIES.c.arxiv_id, _PAPERS.c.latest_votes)
        .order_by(func.coalesce(votes, -1).desc(), _ENTRIES.c.arxiv_id)
        .limit(limit)
    )
    return [(row.arxiv_id, row.votes) for row in await session.execute(query)]
