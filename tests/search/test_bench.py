"""`bench.search` runs end to end on a small archive and ends with one valid JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ENV

ROOT = Path(__file__).resolve().parents[2]


def _bench(*extra: str, corpus: Path) -> dict[str, object]:
    """Run the bench with a tiny archive and return its last line, parsed strictly."""
    command = [sys.executable, "-m", "bench.search", "--papers", "400", "--queries", "20"]
    command += ["--corpus", str(corpus), *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    result: dict[str, object] = json.loads(last, parse_constant=_no_constants)
    return result


def _no_constants(name: str) -> float:
    """NaN or Infinity would make the line unreadable to strict JSON tools."""
    raise AssertionError(f"{name} in the bench's JSON line")


def test_sqlite_build_then_reuse(corpus_dir: Path, tmp_path: Path) -> None:
    """A built archive reports its ingest time; a reused one reports null, not NaN."""
    keep = tmp_path / "bench.sqlite3"
    built = _bench("--keep", str(keep), corpus=corpus_dir)
    assert built["backend"] == "sqlite"
    assert built["queries"] == 20
    assert isinstance(built["ingest_index_seconds"], float)
    assert isinstance(built["index_bytes"], int)
    assert built["index_bytes"] > 0
    reused = _bench("--keep", str(keep), "--repeat", "2", "--expansions", corpus=corpus_dir)
    assert reused["ingest_index_seconds"] is None
    assert reused["papers"] == built["papers"]
    assert (built["repeat"], reused["repeat"], reused["queries"]) == (1, 2, 20)
    # The Korean queries ran with recorded phrases (the seeded mix holds some).
    assert built["expanded"] == 0
    assert isinstance(reused["expanded"], int)
    assert reused["expanded"] > 0


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")
def test_postgresql(corpus_dir: Path) -> None:
    """`--postgres` measures a scratch database and drops it afterwards."""
    result = _bench("--postgres", os.environ[PG_ENV], corpus=corpus_dir)
    assert result["backend"] == "postgresql"
    assert result["queries"] == 20
    assert isinstance(result["index_bytes"], int)
    assert result["index_bytes"] > 0
