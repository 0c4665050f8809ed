"""/week and /month at scale: the top papers of random weeks and months of a 100k archive.

The archive is bench.search's (the real corpus plus generated papers through the real write
path, 50 a day from 2019), with vote counts moved afterwards as the HF poll moves them. Each
timing is one uncached read plus render, as a handler does it when its cache is cold: the
period's ranking (`storage.tops.top_ids`), the papers with their authors, and the page's HTML.
Last line: `{"bench": "tops", "week_p95_ms": …, "month_p95_ms": …, …}`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.search import DEFAULT_CORPUS, build, generated, load_corpus, percentile
from handlers.tops import Period, load_tops, month_of, render_tops, week_of
from storage.db import create_engine, session_factory
from storage.models import StoredDigest, StoredPaper
from storage.votes import record_votes

TARGET_P95_MS = 50


async def prepare(url: str, papers: int, corpus: Path, seed: int, fresh: bool) -> float | None:
    """Build the archive (unless reused) and move a tenth of the votes; seconds of the build."""
    if not fresh:
        return None
    rng = random.Random(seed)
    real_digests = load_corpus(corpus)
    real = [p for d in real_digests for p in d.papers]
    extra = max(0, papers - len({p.arxiv_id for p in real}))
    seconds = await build(url, generated(real, extra, rng) + real_digests)
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            ids = list(await session.scalars(select(StoredPaper.arxiv_id)))
            moved = {i: rng.randint(0, 500) for i in rng.sample(ids, len(ids) // 10)}
            now = dt.datetime.now(dt.UTC)
            await record_votes(session, votes=moved, now=now)
    finally:
        await engine.dispose()
    return seconds


async def measure(url: str, periods: list[Period]) -> list[float]:
    """Milliseconds of each uncached read and render of one period's first page."""
    engine = create_engine(url)
    timings = []
    try:
        async with session_factory(engine)() as session:
            for period in periods[:10]:
                await load_tops(session, period)  # warm the connection and statement caches
            for period in periods:
                started = time.perf_counter()
                found = await load_tops(session, period)
                render_tops(found, period, 0, "ko")
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return timings


async def span(url: str) -> tuple[dt.date, dt.date]:
    """The first and last day of the archive."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(func.min(StoredDigest.date), func.max(StoredDigest.date))
                )
            ).one()
    finally:
        await engine.dispose()
    return row[0], row[1]


def main() -> None:
    """Build or reuse the archive, time random weeks and months, print the JSON line last."""
    parser = argparse.ArgumentParser(prog="python -m bench.tops", description=__doc__)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--periods", type=int, default=500, help="weeks, and as many months")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "tops.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
        seconds = asyncio.run(prepare(url, args.papers, args.corpus, args.seed, not path.exists()))
        first, last = asyncio.run(span(url))
        rng = random.Random(args.seed)
        days = [
            first + dt.timedelta(days=rng.randint(0, (last - first).days))
            for _ in range(args.periods)
        ]
        weeks = asyncio.run(measure(url, [week_of(day) for day in days]))
        months = asyncio.run(measure(url, [month_of(day) for day in days]))
    result = {
        "bench": "tops",
        "papers": args.papers,
        "periods": args.periods,
        "week_p50_ms": round(percentile(weeks, 0.5), 2),
        "week_p95_ms": round(percentile(weeks, 0.95), 2),
        "month_p50_ms": round(percentile(months, 0.5), 2),
        "month_p95_ms": round(percentile(months, 0.95), 2),
        "build_seconds": None if seconds is None else round(seconds, 1),
        "target_p95_ms": TARGET_P95_MS,
    }
    print(f"/week p95 {result['week_p95_ms']} ms, /month p95 {result['month_p95_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
