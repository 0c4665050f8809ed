"""Search at scale: the real corpus plus generated papers, 1,000 mixed queries, latency.

Generated papers recombine real titles, author names and summary sentences with a seeded RNG,
so the vocabulary and Korean/English mix are realistic. They go through the real write path
(`store_digests`, which indexes as it stores). Figures: p50/p95/p99 of the full
`search_papers` call on the event loop `paperboy run` uses (uvloop where installed), index size
(search tables' pages), and the ingest+index time; on SQLite, or with `--postgres URL` on a
scratch PostgreSQL database. `--expansions` times the Korean queries as /search runs them once
the operator's model expanded them (the expansion cached): each gets the phrases of one of a
model's recorded answers (tests/search/expansions_recorded.json), in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.content.expansion import parse_expansion, wants_expansion
from bot.content.ingest import expand
from bot.digest import Digest, DigestError, Paper, SummarySection, parse_digest
from bot.telegram.loop import use_uvloop
from storage.db import create_engine, session_factory, upgrade
from storage.digest_store import StoreCache, store_digests
from storage.search import search_papers
from tests.search.evaluation import EXPANSIONS_FILE, recorded_expansions

DEFAULT_CORPUS = (Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus").resolve()
PER_DAY = 50
DAYS_PER_BATCH = 20
_SENTENCE = re.compile(r"(?<=[.!?다])\s+")


def load_corpus(folder: Path) -> list[Digest]:
    """Every parsable Markdown digest of the corpus."""
    digests = []
    for name in expand([str(folder / "daily_papers_ko")]):
        try:
            digests.append(parse_digest(Path(name).read_text(encoding="utf-8-sig"), source=name))
        except DigestError:
            continue
    return digests


def generated(real: list[Paper], count: int, rng: random.Random) -> list[Digest]:
    """`count` synthetic papers in daily digests of PER_DAY, recombined from `real` papers."""
    titles = [p.title.split() for p in real]
    names = sorted({name for p in real for name in p.authors})
    sentences = [
        s for p in real for part in p.summary for b in part.bullets for s in _SENTENCE.split(b)
    ]
    digests, day = [], dt.date(2019, 1, 1)
    for start in range(0, count, PER_DAY):
        papers = []
        for i in range(start, min(start + PER_DAY, count)):
            a, b = rng.choice(titles), rng.choice(titles)
            title = " ".join(a[: len(a) // 2] + b[len(b) // 2 :])
            bullets = tuple(" ".join(rng.sample(sentences, 3)) for _ in range(3))
            arxiv_id = f"{1000 + i // 100000:04d}.{i % 100000:05d}"
            papers.append(
                Paper(
                    arxiv_id=arxiv_id,
                    title=title,
                    link=f"https://arxiv.org/abs/{arxiv_id}",
                    votes=rng.randint(0, 200),
                    authors=tuple(rng.sample(names, rng.randint(1, 8))),
                    summary=(SummarySection(bullets=bullets),),
                    raw=title,
                )
            )
        digests.append(
            Digest(
                date=day,
                source=f"gen/{day}",
                format="markdown",
                papers=tuple(papers),
                raw=f"gen {day} {start}",
            )
        )
        day += dt.timedelta(days=1)
    return digests


def queries(real: list[Paper], count: int, rng: random.Random) -> list[str]:
    """Mixed queries: Korean and English words, title fragments, names, ids, filters, junk."""
    korean = sorted(
        {
            w
            for p in real
            for part in p.summary
            for b in part.bullets
            for w in b.split()
            if re.fullmatch(r"[가-힣]{2,6}", w)
        }
    )
    english = sorted(
        {w.lower() for p in real for w in p.title.split() if re.fullmatch(r"[A-Za-z-]{4,}", w)}
    )
    names = sorted({name for p in real for name in p.authors})
    makers = [
        lambda: rng.choice(korean),
        lambda: f"{rng.choice(korean)} {rng.choice(korean)}",
        lambda: rng.choice(english),
        lambda: f"{rng.choice(english)} {rng.choice(english)}",
        lambda: " ".join(rng.choice(real).title.split()[:3]),
        lambda: f"{rng.choice(english)} {rng.choice(korean)}",
        lambda: rng.choice(names),
        lambda: f'"{" ".join(rng.choice(real).title.split()[:2])}" year:2024',
        lambda: f"{rng.choice(english)} -{rng.choice(english)}",
        lambda: rng.choice(real).arxiv_id,
        lambda: f"author:{rng.choice(names).split()[-1]}",
    ]
    return [rng.choice(makers)() for _ in range(count)]


async def build(url: str, digests: list[Digest]) -> float:
    """Store (and index) every digest through the real write path; return seconds."""
    await upgrade(url)
    engine = create_engine(url)
    sessions, cache = session_factory(engine), StoreCache()
    started = time.perf_counter()
    try:
        for start in range(0, len(digests), DAYS_PER_BATCH):
            async with sessions.begin() as session:
                batch = [(d, d.source) for d in digests[start : start + DAYS_PER_BATCH]]
                await store_digests(session, digests=batch, cache=cache)
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def recorded_phrases(texts: list[str], path: Path) -> dict[str, list[str]]:
    """Each Korean query's phrases: the recorded answers' (as the expander parses them) in turn."""
    answers = [parse_expansion(answer) for answer in recorded_expansions(path).values()]
    korean = [query for query in dict.fromkeys(texts) if wants_expansion(query)]
    return {query: answers[n % len(answers)] for n, query in enumerate(korean)}


async def measure(
    url: str, texts: list[str], repeat: int = 1, expansions: dict[str, list[str]] | None = None
) -> list[float]:
    """Milliseconds of each full `search_papers` call (one session, as a handler would): with
    `repeat` passes over all the queries, each query's median over them (a shared machine's
    slow minute then moves a figure less); with `expansions`, those queries' phrases."""
    phrases = expansions or {}
    engine = create_engine(url)
    passes: list[list[float]] = []
    try:
        async with session_factory(engine)() as session:
            for query in texts[:20]:
                # warm caches
                await search_papers(session, query=query, expansion=phrases.get(query, ()))
            for _ in range(max(repeat, 1)):
                timings = []
                for query in texts:
                    started = time.perf_counter()
                    await search_papers(session, query=query, expansion=phrases.get(query, ()))
                    timings.append((time.perf_counter() - started) * 1000)
                passes.append(timings)
    finally:
        await engine.dispose()
    return [statistics.median(times) for times in zip(*passes, strict=True)]


def index_bytes(path: str) -> tuple[int, int]:
    """Bytes of the search tables (FTS5 shadow tables + documents) and of the whole file."""
    with sqlite3.connect(path) as db:
        try:
            rows = db.execute(
                "SELECT sum(pgsize) FROM dbstat "
                "WHERE name LIKE 'search_%' OR name LIKE 'author_fts%'"
            ).fetchone()
            search = int(rows[0] or 0)
        except sqlite3.OperationalError:
            search = -1
    return search, os.path.getsize(path)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of `values`."""
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


async def postgres_index_bytes(url: str) -> tuple[int, int]:
    """Bytes of the search table with its GIN index, and of the whole database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            search = await connection.scalar(
                text("SELECT pg_total_relation_size('search_documents')")
            )
            total = await connection.scalar(text("SELECT pg_database_size(current_database())"))
    finally:
        await engine.dispose()
    return int(search or 0), int(total or 0)


async def _admin(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on `url`'s server."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _expansions(args: argparse.Namespace, texts: list[str]) -> dict[str, list[str]] | None:
    """The Korean queries' recorded phrases with `--expansions`, else None."""
    return recorded_phrases(texts, args.expansions) if args.expansions else None


def run_sqlite(args: argparse.Namespace, digests: list[Digest], texts: list[str]) -> Figures:
    """Build (or reuse `--keep`) a SQLite archive and time the queries on it."""
    with tempfile.TemporaryDirectory(prefix="paperboy-search-") as folder:
        path = str(args.keep or f"{folder}/bench.sqlite3")
        url = f"sqlite+aiosqlite:///{path}"
        reuse = args.keep is not None and args.keep.exists()
        seconds = None if reuse else asyncio.run(build(url, digests))
        timings = asyncio.run(measure(url, texts, args.repeat, _expansions(args, texts)))
        return Figures(seconds, timings, *index_bytes(path))


def run_postgres(args: argparse.Namespace, digests: list[Digest], texts: list[str]) -> Figures:
    """Build a fresh PostgreSQL database next to `--postgres`'s, time the queries, drop it
    (with `--keep-postgres NAME`: build into that database once, keep it and reuse it)."""
    name = args.keep_postgres or "paperboy_bench_search"
    server = make_url(args.postgres)
    url = server.set(database=name).render_as_string(hide_password=False)
    reuse = args.keep_postgres is not None and asyncio.run(_exists(args.postgres, name))
    if not reuse:
        drop, create = f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"
        asyncio.run(_admin(args.postgres, drop, create))
    try:
        seconds = None
        if not reuse:
            seconds = asyncio.run(build(url, digests))
            asyncio.run(_admin(url, "VACUUM ANALYZE"))
        timings = asyncio.run(measure(url, texts, args.repeat, _expansions(args, texts)))
        return Figures(seconds, timings, *asyncio.run(postgres_index_bytes(url)))
    finally:
        if args.keep_postgres is None:
            asyncio.run(_admin(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _exists(url: str, name: str) -> bool:
    """Whether `url`'s server has a database called `name` with a built archive in it."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            found = await connection.scalar(query, {"name": name})
    finally:
        await engine.dispose()
    return found is not None


@dataclass(frozen=True, slots=True)
class Figures:
    """What one backend measured (seconds is None when an archive was reused)."""

    seconds: float | None
    timings: list[float]
    index_bytes: int
    db_bytes: int


def main() -> None:
    """Build the archive, run the queries, print figures and the JSON line last."""
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this SQLite file")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="measure PostgreSQL instead: a server URL (postgresql+asyncpg://…); a scratch "
        "database is created next to it and dropped after",
    )
    parser.add_argument(
        "--keep-postgres",
        metavar="NAME",
        help="with --postgres: build into (or reuse) this database and keep it",
    )
    parser.add_argument("--slowest", type=int, default=0, help="print the N slowest queries")
    parser.add_argument(
        "--repeat", type=int, default=1, help="time every query N times, take each one's median"
    )
    parser.add_argument(
        "--expansions",
        type=Path,
        nargs="?",
        const=EXPANSIONS_FILE,
        help="time Korean queries with a model's recorded phrases (default file: "
        f"{EXPANSIONS_FILE.name})",
    )
    args = parser.parse_args()
    loop = "uvloop" if use_uvloop() else "asyncio"  # as `paperboy run` does
    rng = random.Random(args.seed)
    corpus = load_corpus(args.corpus)
    real = [p for d in corpus for p in d.papers]
    extra = max(0, args.papers - len({p.arxiv_id for p in real}))
    digests = generated(real, extra, rng) + corpus
    texts = queries(real, args.queries, rng)
    papers = sum(len(d.papers) for d in digests)
    figures = (run_postgres if args.postgres else run_sqlite)(args, digests, texts)
    seconds, timings = figures.seconds, figures.timings
    if seconds is not None:
        print(f"ingest+index: {papers} papers in {seconds:.1f}s ({papers / seconds:.0f}/s)")
    else:
        print("reused the --keep archive: ingest time not measured")
    for ms, query in sorted(zip(timings, texts, strict=True), reverse=True)[: args.slowest]:
        print(f"{ms:8.1f} ms  {query[:80]}")
    result = {
        "bench": "search",
        "backend": "postgresql" if args.postgres else "sqlite",
        "papers": papers,
        "queries": len(timings),
        "repeat": args.repeat,
        "loop": loop,
        "expanded": sum(wants_expansion(query) for query in texts) if args.expansions else 0,
        "p50_ms": round(percentile(timings, 0.5), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
        "max_ms": round(max(timings), 2),
        "index_bytes": figures.index_bytes,
        "db_bytes": figures.db_bytes,
        # Valid JSON when the archive was reused: null, not NaN.
        "ingest_index_seconds": None if seconds is None else round(seconds, 1),
        "papers_per_s": None if seconds is None else round(papers / seconds, 1),
        "target_p95_ms": 20,
    }
    print(
        f"latency p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
