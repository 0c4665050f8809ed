"""`paperboy recommend`: a day's papers ranked for a reader who saved the given papers."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.digest.refs import parse_paper_ref
from storage.db import create_engine, session_factory

if TYPE_CHECKING:  # scikit-learn (~60 MB) loads when this command runs, not with `paperboy run`
    from bot.recommend.day import DayRanking


def _date(value: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def _ids(value: str) -> list[str]:
    """An argparse type: comma-separated arXiv ids or links."""
    found = [parse_paper_ref(part.strip()) for part in value.split(",") if part.strip()]
    if not found or None in found:
        raise argparse.ArgumentTypeError(f"not a list of arXiv ids: {value!r}")
    return [i for i in found if i]


def configure_recommend(parser: argparse.ArgumentParser) -> None:
    """--saved ID[,ID…] [--date D] [--limit K] [--json]."""
    parser.add_argument("--saved", type=_ids, required=True, help="the reader's saved papers")
    parser.add_argument("--date", type=_date, help="the digest's day (default: the latest)")
    parser.add_argument("--limit", type=int, default=10, help="how many papers (default 10)")
    parser.add_argument("--json", action="store_true", help='print [{"arxiv_id", "score"}]')


async def _rank(settings: Settings, args: argparse.Namespace) -> DayRanking | None:
    """Rank the day against the archive's features."""
    from bot.recommend.compute import FeatureCache
    from bot.recommend.day import rank_day

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            return await rank_day(
                session, cache=FeatureCache(), saved=args.saved, date=args.date, limit=args.limit
            )
    finally:
        await engine.dispose()


def run_recommend(args: argparse.Namespace, settings: Settings) -> int:
    """Print the ranking; exit 1 when there is no such digest or no saved id is archived."""
    ranking = asyncio.run(_rank(settings, args))
    if ranking is None:
        print("no digest for that day in the archive", file=sys.stderr)
        return 1
    if ranking.unknown:
        print(f"not in the archive: {', '.join(ranking.unknown)}", file=sys.stderr)
    if len(ranking.unknown) == len(args.saved):
        return 1
    if args.json:
        rows = [{"arxiv_id": i, "score": round(score, 6)} for i, score in ranking.ranked]
        print(json.dumps(rows))
    else:
        print(f"{ranking.date.isoformat()}:")
        for arxiv_id, score in ranking.ranked:
            print(f"  {score:.4f}  {arxiv_id}")
    return 0
