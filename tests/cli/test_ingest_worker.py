"""The ingest's analysis worker dies with `paperboy ingest`, even when that is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

PAPERBOY = Path(sys.executable).with_name("paperboy")


def children(parent: int) -> list[int]:
    """Live (not zombie) processes whose parent is `parent`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    """Poll `check` until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkilled_ingest_leaves_no_worker_behind(corpus_dir: Path, tmp_path: Path) -> None:
    """SIGKILL the ingest once its worker runs: the worker is gone within seconds."""
    folder = str(corpus_dir / "daily_papers_ko")
    url = f"sqlite+aiosqlite:///{tmp_path}/kill.sqlite3"
    # The folder five times: over a thousand files, so the run outlasts the look for its worker.
    command = [str(PAPERBOY), "--db", url, "ingest", *[folder] * 5]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    workers: list[int] = []

    def found() -> bool:
        workers[:] = children(process.pid)
        return bool(workers)

    try:
        assert wait_for(found, 60)
        assert process.poll() is None, "the ingest ended before its worker was seen"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert wait_for(lambda: not any(alive(pid) for pid in workers), 10)
    finally:
        for pid in workers:  # without the fix, do not leave the orphan running
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()
