"""Ingest throughput: the whole corpus into a fresh SQLite file, end to end and parse only.

`--floor` also replays the ingest's SQL in plain sqlite3 (bench.sqlreplay), with and without
the search index: the database's own share, which no Python code driving it can go below;
`floor_ratio` is that floor's seconds over the ingest's (the closer to 1, the less overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from bench.sqlreplay import Recording, replay
from bot.content.ingest import expand, ingest
from bot.digest import DigestError, parse_digest
from storage.db import create_engine, session_factory, upgrade

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


def parse_only(files: list[str]) -> tuple[int, float]:
    """Parse every file from memory; return (papers, seconds)."""
    texts = [(Path(f).read_text(encoding="utf-8-sig"), f) for f in files]
    started = time.perf_counter()
    papers = 0
    for text, source in texts:
        try:
            papers += len(parse_digest(text, source=source).papers)
        except DigestError:
            continue
    return papers, time.perf_counter() - started


async def end_to_end(
    files: list[str], url: str, *, recording: Recording | None = None
) -> tuple[int, float, float]:
    """Read, parse and store every file; return (papers, ingest seconds, upgrade seconds)."""
    started = time.perf_counter()
    await upgrade(url)
    migrated = time.perf_counter()
    engine = create_engine(url)
    if recording is not None:
        recording.attach(engine)
    try:
        report = await ingest(files, sessions=session_factory(engine))
    finally:
        await engine.dispose()
    return report.papers, time.perf_counter() - migrated, migrated - started


def main() -> None:
    """Run both measurements and print the JSON result line last."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS.resolve())
    parser.add_argument(
        "--floor", action="store_true", help="also replay the ingest's SQL without Python"
    )
    args = parser.parse_args()
    files = expand([str(args.corpus)])
    print(f"corpus {args.corpus}: {len(files)} files", flush=True)
    parsed, parse_seconds = parse_only(files)
    print(f"parse only: {parsed} papers in {parse_seconds:.3f}s", flush=True)
    recording = Recording() if args.floor else None
    floor: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="paperboy-bench-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        papers, seconds, upgrade_seconds = asyncio.run(end_to_end(files, url, recording=recording))
        if recording is not None:
            floor = sql_floor(recording, folder, papers)
            # The database's share of the whole ingest: 1.0 would mean no Python overhead.
            floor["floor_ratio"] = round(floor["sql_floor_seconds"] / seconds, 3)
    print(f"migrations: {upgrade_seconds:.3f}s (not counted)", flush=True)
    print(f"end to end: {papers} papers in {seconds:.3f}s", flush=True)
    result = {
        "bench": "ingest",
        "files": len(files),
        "papers": papers,
        "seconds": round(seconds, 3),
        "papers_per_s": round(papers / seconds, 1),
        "parse_only_papers_per_s": round(parsed / parse_seconds, 1),
        "target_papers_per_s": 5000,
        "cores": os.cpu_count(),
        **floor,
    }
    print(json.dumps(result))


def sql_floor(recording: Recording, folder: str, papers: int) -> dict[str, float]:
    """Replay `recording` on fresh files, with and without the search index; print where the
    time goes and return the figures for the result line."""
    figures: dict[str, float] = {}
    for index, name in ((True, "sql_floor"), (False, "sql_floor_without_index")):
        path = f"{folder}/{name}.sqlite3"
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
        seconds, spent = replay(recording, path, index=index)
        largest = sorted(spent.items(), key=lambda item: -item[1])[:6]
        parts = ", ".join(f"{kind} {share:.3f}s" for kind, share in largest)
        print(f"{name}: {seconds:.3f}s ({parts})", flush=True)
        figures[f"{name}_seconds"] = round(seconds, 3)
        figures[f"{name}_papers_per_s"] = round(papers / seconds, 1)
    return figures


if __name__ == "__main__":
    main()
