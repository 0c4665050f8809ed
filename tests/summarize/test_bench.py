"""`bench.summarize` runs end to end on a few papers and ends with one valid JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ENV

ROOT = Path(__file__).resolve().parents[2]


def _bench(*extra: str) -> dict[str, object]:
    """Run the bench with 12 papers at 20 ms and return its last line."""
    command = [sys.executable, "-m", "bench.summarize", "--papers", "12", "--latency", "0.02"]
    done = subprocess.run([*command, *extra], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_sqlite() -> None:
    """Every paper is summarized once, and the figures are there."""
    result = _bench()
    assert result["bench"] == "summarize"
    assert (result["papers"], result["summarized"], result["duplicate_calls"]) == (12, 12, 0)
    assert isinstance(result["ratio"], float)
    assert isinstance(result["prompt_tokens_per_paper"], float)


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")
def test_two_workers_on_postgresql() -> None:
    """Two workers on PostgreSQL request each paper once."""
    result = _bench("--postgres", os.environ[PG_ENV])
    postgres = result["postgres"]
    assert isinstance(postgres, dict)
    assert (postgres["summarized"], postgres["duplicate_calls"], postgres["calls"]) == (12, 0, 12)
