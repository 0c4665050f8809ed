"""/trends at scale: per-month counts of random topics over a 100k archive, PNG included.

Uses bench.tops' archive (build it there, or here with the same options; `--keep` reuses it).
Each timing is what an uncached /trends costs: every topic's monthly counts through the search
analyser (`storage.trends.topic_months`) and the chart drawn to PNG bytes, for one to four
topics drawn from common and rare words of the corpus, Korean and English.
Last line: `{"bench": "trends", "p95_ms": …, …}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

from bench.search import DEFAULT_CORPUS, percentile
from bench.tops import prepare
from handlers.trends import chart, load_counts
from storage.db import create_engine, session_factory

TARGET_P95_MS = 300
TOPICS = (
    "diffusion",
    "language model",
    "agent",
    "reasoning",
    "video generation",
    "강화학습",
    "멀티모달",
    "언어 모델",
    "benchmark",
    "3D",
    "retrieval",
    "robot",
    "음성",
    "quantization",
    "mixture of experts",
    "transformer",
)


async def measure(url: str, requests: list[list[str]]) -> tuple[list[float], bytes]:
    """Milliseconds of each uncached count-and-draw, and the last chart."""
    engine = create_engine(url)
    timings = []
    try:
        async with session_factory(engine)() as session:
            for topics in requests[:5]:
                await load_counts(session, topics)  # warm the connection and the font
            await chart({"warm": {"2024-01": 1}}, "ko")
            png = b""
            for topics in requests:
                started = time.perf_counter()
                png = await chart(await load_counts(session, topics), "ko")
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return timings, png


def main() -> None:
    """Build or reuse the archive, time random /trends requests, print the JSON line last."""
    parser = argparse.ArgumentParser(prog="python -m bench.trends", description=__doc__)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this SQLite file")
    parser.add_argument("--png", type=Path, help="save the last chart here (to look at it)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    requests = [rng.sample(TOPICS, rng.randint(1, 4)) for _ in range(args.requests)]
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "trends.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(prepare(url, args.papers, args.corpus, args.seed, not path.exists()))
        timings, png = asyncio.run(measure(url, requests))
    if args.png is not None:
        args.png.write_bytes(png)
    result = {
        "bench": "trends",
        "papers": args.papers,
        "requests": len(timings),
        "p50_ms": round(percentile(timings, 0.5), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "target_p95_ms": TARGET_P95_MS,
    }
    print(f"/trends uncached p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
