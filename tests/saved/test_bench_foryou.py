"""`bench.foryou` runs end to end on a small archive: every pass, one JSON line last."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_four_passes(corpus_dir: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench.foryou", "--archive", str(tmp_path / "a.sqlite3")]
    command += ["--papers", "300", "--chats", "20", "--saved", "5", "--repeat", "1"]
    command += ["--corpus", str(corpus_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert (figures["chats"], figures["digests"]) == (20, 20)
    assert figures["with_section"] > 0  # the saves are recent papers: most chats get picks
    for name in ("baseline", "cold", "warm", "after_poll"):
        assert figures[f"{name}_s"] > 0
        assert len(figures["runs"][f"{name}_cpu_s"]) == 1
    assert figures["after_poll_ratio"] == round(figures["after_poll_s"] / figures["baseline_s"], 2)
    assert figures["feature_builds"] == 1
    assert figures["warm_up_s"] > 0  # the warm-up after a poll, timed on its own
