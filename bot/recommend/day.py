"""A day's digest ranked for a library of saved papers: what /foryou and `paperboy recommend`
show (storage in, scores out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.recommend.compute import FeatureCache
from bot.recommend.serve import foryou_scores, top
from storage.papers import day_papers, digest_for_date, latest_digest


@dataclass(frozen=True, slots=True)
class DayRanking:
    """The day ranked, best first, and the saved ids the archive does not know."""

    date: dt.date
    ranked: list[tuple[str, float]]
    unknown: list[str]


async def rank_day(
    session: AsyncSession,
    *,
    cache: FeatureCache,
    saved: Sequence[str],
    date: dt.date | None = None,
    limit: int = 3,
) -> DayRanking | None:
    """That day's digest (default: the latest) ranked for a reader who saved `saved` (saved
    papers themselves left out); None when there is no such digest."""
    info = await (latest_digest(session) if date is None else digest_for_date(session, date=date))
    if info is None:
        return None
    features = await cache.get(session)
    wanted = set(saved)
    ids = [
        p.arxiv_id for p in await day_papers(session, date=info.date) if p.arxiv_id not in wanted
    ]
    candidates = [i for i in dict.fromkeys(ids) if i in features.rows]
    library = features.rows_of(saved)
    unknown = [i for i in saved if i not in features.rows]
    if not candidates or not library:
        return DayRanking(info.date, [], unknown)
    scores = foryou_scores(features, library, features.rows_of(candidates))
    return DayRanking(info.date, top(candidates, scores, limit), unknown)
