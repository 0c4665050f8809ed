"""A day's digest ranked for a library of saved papers: what /foryou and `paperboy recommend`
show (storage in, scores out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from bot.recommend.compute import FeatureCache
from bot.recommend.serve import foryou_scores, genericness, top
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
    day_ids = [
        i
        for i in dict.fromkeys(p.arxiv_id for p in await day_papers(session, date=info.date))
        if i in features.rows
    ]
    candidates = [i for i in day_ids if i not in wanted]
    library = features.rows_of(saved)
    unknown = [i for i in saved if i not in features.rows]
    if not candidates or not library:
        return DayRanking(info.date, [], unknown)
    # Genericness over the whole day, as a dispatch pass computes it (bot.recommend.picks).
    generic = dict(zip(day_ids, genericness(features, features.rows_of(day_ids)), strict=True))
    scores = foryou_scores(
        features,
        library,
        features.rows_of(candidates),
        generic=np.array([generic[i] for i in candidates], dtype=np.float32),
    )
    return DayRanking(info.date, top(candidates, scores, limit), unknown)
