"""Summaries of one day's papers through the fake endpoint: wall time against the ideal.

The ideal is what the concurrency limit allows: papers × latency / SUMMARY_CONCURRENCY (50 papers
at 300 ms, 8 at a time: 1.875 s). The ratio measures everything paperboy adds (claims, checks,
storing). Papers come from a real HF daily-papers day of the corpus, topped up from earlier days
(synthetic ones when the corpus is absent). With `--postgres URL`, two workers with engines of
their own summarize the same day on a scratch PostgreSQL database at once; each paper must still
be requested once.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings, load_settings
from bot.content.summarizer import Summarizer, SummaryReport
from bot.digest import Digest, DigestError, Paper, parse_hf_json
from bot.fakes.llm import FakeLLM
from storage.db import create_engine, session_factory, upgrade
from storage.digest_store import store_digest

DEFAULT_CORPUS = (Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus").resolve()
DAY = dt.date(2026, 8, 21)


def corpus_papers(folder: Path, count: int) -> list[Paper]:
    """Up to `count` distinct papers with abstracts from the HF days, newest day first."""
    found: dict[str, Paper] = {}
    for path in sorted((folder / "hf_api_b").glob("*.json"), reverse=True):
        if path.stem > DAY.isoformat():
            continue
        try:
            digest = parse_hf_json(path.read_text(encoding="utf-8-sig"), source=str(path))
        except (OSError, UnicodeDecodeError, DigestError):
            continue
        for paper in digest.papers:
            if paper.abstract and len(found) < count:
                found.setdefault(paper.arxiv_id, paper)
        if len(found) >= count:
            break
    return list(found.values())


def synthetic_papers(count: int, start: int) -> list[Paper]:
    """Papers with made-up but distinct titles and abstracts."""
    papers = []
    for index in range(start, start + count):
        arxiv_id = f"2608.{90000 + index:05d}"
        papers.append(
            Paper(
                arxiv_id=arxiv_id,
                title=f"Method{index}: Scaling Synthetic Benchmark{index} Agents",
                link=f"https://arxiv.org/abs/{arxiv_id}",
                votes=index,
                authors=(f"Author {index}",),
                abstract=f"We introduce Method{index}, trained with Curriculum{index} data.",
            )
        )
    return papers


def day_papers(folder: Path, count: int) -> list[Paper]:
    """`count` papers for the bench's day."""
    papers = corpus_papers(folder, count) if folder.is_dir() else []
    return papers + synthetic_papers(count - len(papers), len(papers))


async def prepare(url: str, papers: list[Paper]) -> None:
    """Migrate `url` and store the day's digest."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        digest = Digest(date=DAY, source="bench", format="hf_json", papers=tuple(papers))
        async with session_factory(engine).begin() as session:
            await store_digest(session, digest=digest, source="bench")
    finally:
        await engine.dispose()


def settings_for(url: str, fake: FakeLLM, concurrency: int) -> Settings:
    """Settings of one worker."""
    return load_settings(
        _env_file=None,
        database_url=url,
        summary_api_base_url=fake.base_url,
        summary_model="bench-model",
        summary_concurrency=concurrency,
        summary_max_per_day=100_000,
    )


async def summarize(
    url: str, fake: FakeLLM, *, workers: int, concurrency: int
) -> tuple[float, list[SummaryReport]]:
    """Run `workers` summarizers (an engine each) over the day at once; wall seconds, reports."""
    engines = [create_engine(url) for _ in range(workers)]
    settings = settings_for(url, fake, concurrency)
    summarizers = [Summarizer(settings, sessions=session_factory(e)) for e in engines]
    try:
        started = time.perf_counter()
        reports = await asyncio.gather(*(s.summarize_days([DAY]) for s in summarizers))
        return time.perf_counter() - started, list(reports)
    finally:
        for summarizer in summarizers:
            await summarizer.client.aclose()
        for engine in engines:
            await engine.dispose()


async def run_sqlite(args: argparse.Namespace, papers: list[Paper]) -> dict[str, Any]:
    """One worker on a fresh SQLite file: the timed figures."""
    with tempfile.TemporaryDirectory(prefix="paperboy-summarize-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        await prepare(url, papers)
        async with FakeLLM(latency=args.latency).running() as fake:
            wall, [report] = await summarize(url, fake, workers=1, concurrency=args.concurrency)
            ideal = len(papers) * args.latency / args.concurrency
            count = max(len(papers), 1)
            return {
                "bench": "summarize",
                "papers": len(papers),
                "summarized": report.summarized,
                "failed": report.failed,
                "wall_s": round(wall, 3),
                "ideal_s": round(ideal, 3),
                "ratio": round(wall / ideal, 3) if ideal else None,
                "duplicate_calls": fake.duplicate_calls(),
                "prompt_tokens_per_paper": round(fake.prompt_tokens / count, 1),
                "completion_tokens_per_paper": round(fake.completion_tokens / count, 1),
                "target_ratio": 1.25,
            }


async def _admin(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on `url`'s server."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def run_postgres(args: argparse.Namespace, papers: list[Paper]) -> dict[str, Any]:
    """Two workers at once on a scratch PostgreSQL database: duplicates and wall time."""
    name = "paperboy_bench_summarize"
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    await _admin(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await _admin(args.postgres, f"CREATE DATABASE {name}")
    try:
        await prepare(url, papers)
        async with FakeLLM(latency=args.latency).running() as fake:
            wall, reports = await summarize(url, fake, workers=2, concurrency=args.concurrency)
            return {
                "workers": 2,
                "wall_s": round(wall, 3),
                "summarized": sum(r.summarized for r in reports),
                "duplicate_calls": fake.duplicate_calls(),
                "calls": fake.total_calls,
            }
    finally:
        await _admin(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    """Measure, print the figures, and the JSON line last."""
    parser = argparse.ArgumentParser(prog="python -m bench.summarize", description=__doc__)
    parser.add_argument("--papers", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.3, help="the fake's seconds per answer")
    parser.add_argument("--concurrency", type=int, default=8, help="SUMMARY_CONCURRENCY")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--postgres", metavar="URL", help="also run 2 workers on PostgreSQL")
    args = parser.parse_args()
    papers = day_papers(args.corpus, args.papers)
    result = asyncio.run(run_sqlite(args, papers))
    print(
        f"{result['papers']} papers in {result['wall_s']} s (ideal {result['ideal_s']} s, "
        f"ratio {result['ratio']}), {result['duplicate_calls']} duplicate calls"
    )
    if args.postgres:
        result["postgres"] = asyncio.run(run_postgres(args, papers))
        print(f"postgresql, 2 workers: {result['postgres']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
