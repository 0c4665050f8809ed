"""bench.sqlreplay: a replayed ingest writes the very archive the ingest wrote."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.sqlreplay import Recording, replay
from bot.content.ingest import ingest
from storage.db import create_engine, session_factory, upgrade

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("digests", "papers", "digest_entries", "authors", "paper_authors", "search_documents")


def _dump(path: Path, *, index: bool = True) -> dict[str, object]:
    """Every archive row, and what a few searches find, as comparable values."""
    with sqlite3.connect(path) as connection:
        rows: dict[str, object] = {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in TABLES
        }
        if index:
            for term in ("모델", "diffusion", "언어 모델"):
                query = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid"
                rows[term] = connection.execute(query, (f'"{term}"',)).fetchall()
        rows["index_size"] = connection.execute("SELECT count(*) FROM search_fts_data").fetchone()
    return rows


async def _record(tmp_path: Path, fixtures_dir: Path) -> tuple[Recording, Path]:
    """Ingest the fixture digests while recording; return the recording and the file."""
    path = tmp_path / "ingested.sqlite3"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    recording = Recording()
    recording.attach(engine)
    try:
        report = await ingest([str(fixtures_dir)], sessions=session_factory(engine))
    finally:
        await engine.dispose()
    assert report.papers > 0
    assert not report.failed
    return recording, path


async def test_replay_writes_the_same_archive(tmp_path: Path, fixtures_dir: Path) -> None:
    recording, ingested = await _record(tmp_path, fixtures_dir)
    replayed = tmp_path / "replayed.sqlite3"
    await upgrade(f"sqlite+aiosqlite:///{replayed}")

    seconds, spent = replay(recording, str(replayed))

    assert seconds > 0
    assert spent["INSERT INTO papers"] > 0
    assert spent["COMMIT"] > 0
    assert _dump(replayed) == _dump(ingested)
    found = _dump(replayed)["모델"]
    assert isinstance(found, list)
    assert found


async def test_replay_without_index_writes_the_rows_but_no_index(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    recording, ingested = await _record(tmp_path, fixtures_dir)
    replayed = tmp_path / "replayed.sqlite3"
    await upgrade(f"sqlite+aiosqlite:///{replayed}")

    replay(recording, str(replayed), index=False)

    dumped, original = _dump(replayed, index=False), _dump(ingested, index=False)
    assert {t: dumped[t] for t in TABLES} == {t: original[t] for t in TABLES}
    assert dumped["index_size"] < original["index_size"]  # type: ignore[operator]


def test_bench_reports_the_floor(fixtures_dir: Path) -> None:
    """`bench.ingest --floor` ends with one JSON line holding both replays' figures."""
    command = [sys.executable, "-m", "bench.ingest", "--floor", "--corpus", str(fixtures_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bench"] == "ingest"
    assert result["papers"] > 0
    for name in ("sql_floor", "sql_floor_without_index"):
        assert result[f"{name}_seconds"] > 0
        assert result[f"{name}_papers_per_s"] > 0
