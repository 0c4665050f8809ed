"""The dispatch pass with and without "✨ For you": 10,000 chats, 20 saved papers each, on a
100,000-paper archive (bench.memory's, built like bench/search.py's; a run works on a copy).

Passes (each planned in full, then rolled back, so all see the same database): `baseline`, every
chat's `for_you` off (today's pass); `cold`, for you on and a new feature cache (the archive's
features are built inside the pass, as on the first pass after the archive changed); `warm`,
the cache kept from the cold pass (every other pass of the day); `after_poll`, a new cache whose
features and served libraries' kernels were computed before the pass, as the warm-up after a
poll that stored papers does (`warm_for_you`: the day's first pass). Saved papers are drawn
uniformly from the newest `FEATURE_WINDOW` papers (the worst case: a pass touches most of the
features). `--repeat` rounds of the four passes, interleaved, each figure their median (on a
shared machine one pass swings by half or more); each pass also in the process's CPU seconds
(SQLite's thread included), which other processes on the machine hardly move.
Last line: `{"bench": "foryou", "baseline_s", "cold_s", "warm_s", "after_poll_s", "warm_ratio",
"cold_ratio", "after_poll_ratio", "warm_up_s" (the warm-up itself, in the background),
"baseline_cpu_s", …, "warm_cpu_ratio", "cold_cpu_ratio", "runs": {"baseline_s": […], …}, …}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from bench.memory import add_today, default_archive, ensure_archive, subscribe, utc_now
from bench.search import DEFAULT_CORPUS
from bot.config import load_settings
from bot.delivery.dispatch import DispatchReport, SchedulePolicy, dispatch
from bot.delivery.foryou import warm_for_you
from bot.recommend.compute import FEATURE_WINDOW, FeatureCache
from storage.chats import Chat
from storage.db import create_engine, session_factory
from storage.deliveries import Delivery
from storage.models import StoredPaper
from storage.saved import SavedPaper


async def save_papers(url: str, chats: int, per_chat: int, seed: int) -> int:
    """Give chats 1…N `per_chat` saved papers each, drawn from the newest `FEATURE_WINDOW`
    papers (what readers save from their digests); returns the archive's size."""
    engine = create_engine(url)
    rng, now = random.Random(seed), utc_now()
    try:
        async with session_factory(engine).begin() as session:
            total = int(await session.scalar(select(func.count()).select_from(StoredPaper)) or 0)
            newest = (
                select(StoredPaper.arxiv_id)
                .order_by(StoredPaper.last_seen.desc(), StoredPaper.arxiv_id.desc())
                .limit(FEATURE_WINDOW)
            )
            ids = list((await session.scalars(newest)).all())
            rows = [
                {"user_id": chat, "arxiv_id": arxiv_id, "chat_id": chat, "saved_at": now}
                for chat in range(1, chats + 1)
                for arxiv_id in rng.sample(ids, per_chat)
            ]
            for start in range(0, len(rows), 20_000):
                await session.execute(insert(SavedPaper), rows[start : start + 20_000])
    finally:
        await engine.dispose()
    return total


async def timed_pass(
    url: str, *, for_you: bool, cache: FeatureCache | None
) -> tuple[float, float, DispatchReport, int]:
    """One dispatch pass, rolled back: seconds, CPU seconds (the process's, SQLite's thread
    included), report, rows with a "for you" section."""
    engine = create_engine(url)
    settings = load_settings(database_url=url, _env_file=None)
    try:
        async with session_factory(engine)() as session:
            await session.execute(update(Chat).values(for_you=for_you))
            started, cpu = time.perf_counter(), time.process_time()
            report = await dispatch(
                session,
                now=utc_now(),
                settings=settings,
                policy=SchedulePolicy(),
                features=(lambda: cache) if cache is not None else None,
            )
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            rows = (await session.scalars(select(Delivery.messages))).all()
            sections = sum(any("✨" in m for m in messages) for messages in rows)
            await session.rollback()
    finally:
        await engine.dispose()
    return seconds, cpu, report, sections


async def primed(url: str) -> FeatureCache:
    """A new feature cache warmed as after a poll that stored papers (bot.clock's
    `warm_for_you`: the features built, the served libraries' kernels computed)."""
    engine = create_engine(url)
    cache = FeatureCache()
    try:
        async with session_factory(engine)() as session:
            await warm_for_you(session, cache)
    finally:
        await engine.dispose()
    return cache


async def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed, then `--repeat` rounds of the four passes."""
    await add_today(url, args.corpus)
    await subscribe(url, args.chats)
    papers = await save_papers(url, args.chats, args.saved, args.seed)
    passes = ("baseline", "cold", "warm", "after_poll")
    names = [f"{name}_s" for name in passes] + [f"{name}_cpu_s" for name in passes]
    runs: dict[str, list[float]] = {name: [] for name in [*names, "warm_up_s"]}
    for _ in range(max(1, args.repeat)):
        baseline, baseline_cpu, report, _ = await timed_pass(url, for_you=False, cache=None)
        cache = FeatureCache()
        cold, cold_cpu, _, sections = await timed_pass(url, for_you=True, cache=cache)
        warm, warm_cpu, _, _ = await timed_pass(url, for_you=True, cache=cache)
        started = time.perf_counter()
        warmed = await primed(url)
        runs["warm_up_s"].append(round(time.perf_counter() - started, 2))
        poll, poll_cpu, _, _ = await timed_pass(url, for_you=True, cache=warmed)
        seconds = (baseline, cold, warm, poll, baseline_cpu, cold_cpu, warm_cpu, poll_cpu)
        for name, value in zip(names, seconds, strict=True):
            runs[name].append(round(value, 2))
    median = {name: statistics.median(values) for name, values in runs.items()}
    return {
        "bench": "foryou",
        "chats": args.chats,
        "saved_per_chat": args.saved,
        "archive_papers": papers,
        "digests": report.digests,
        "with_section": sections,
        **{name: round(seconds, 2) for name, seconds in median.items()},
        "warm_ratio": round(median["warm_s"] / median["baseline_s"], 2),
        "cold_ratio": round(median["cold_s"] / median["baseline_s"], 2),
        "after_poll_ratio": round(median["after_poll_s"] / median["baseline_s"], 2),
        "warm_cpu_ratio": round(median["warm_cpu_s"] / median["baseline_cpu_s"], 2),
        "cold_cpu_ratio": round(median["cold_cpu_s"] / median["baseline_cpu_s"], 2),
        "after_poll_cpu_ratio": round(median["after_poll_cpu_s"] / median["baseline_cpu_s"], 2),
        "runs": runs,
        "feature_builds": cache.builds,  # in a cold pass and the warm one after it
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.foryou", description=__doc__)
    parser.add_argument(
        "--archive", type=Path, help="reused if it exists (default: bench.memory's)"
    )
    parser.add_argument("--papers", type=int, default=100_000, help="when building the archive")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--saved", type=int, default=20, help="saved papers per chat")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the four passes")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run on a copy of the archive; print the figures as the last line."""
    args = parse_args(argv)
    archive = args.archive or default_archive(args.papers)
    ensure_archive(archive, args.papers, args.corpus)
    with tempfile.TemporaryDirectory(prefix="paperboy-foryou-") as folder:
        copy = Path(folder) / "bot.sqlite3"
        shutil.copyfile(archive, copy)
        figures = asyncio.run(bench(f"sqlite+aiosqlite:///{copy}", args))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
