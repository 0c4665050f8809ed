"""The scheduler's leader lock: one winner among contenders, a take-over when the leader dies."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bench.broadcast import ROOT
from storage.db import create_engine
from storage.leader import LeaderLock, keep_leading

LEADER_SCRIPT = """
import asyncio, sys
from storage.db import create_engine
from storage.leader import LeaderLock

async def main():
    lock = LeaderLock(create_engine(sys.argv[1]))
    print("leader" if await lock.try_acquire() else "follower", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_two_contenders_exactly_one_wins(pg_url: str) -> None:
    """Of two contenders one leads; the other takes over once the first lets go."""
    first, second = create_engine(pg_url), create_engine(pg_url)
    a, b = LeaderLock(first), LeaderLock(second)
    try:
        assert await a.try_acquire() is True
        assert await b.try_acquire() is False
        assert await a.still_held() is True
        assert await a.try_acquire() is True  # confirming keeps it
        await a.release()
        assert await b.try_acquire() is True
        assert await a.try_acquire() is False
    finally:
        await a.release()
        await b.release()
        await first.dispose()
        await second.dispose()


async def test_follower_takes_over_when_leader_process_dies(pg_url: str) -> None:
    """A leader process SIGKILLed loses the lock with its session; the waiting one is elected."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LEADER_SCRIPT, pg_url, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert leader.stdout is not None
    line = await asyncio.wait_for(leader.stdout.readline(), 20)
    assert line.strip() == b"leader"
    engine = create_engine(pg_url)
    lock, stop, elected = LeaderLock(engine), asyncio.Event(), asyncio.Event()

    async def on_change(leading: bool) -> None:
        if leading:
            elected.set()

    contender = asyncio.create_task(
        keep_leading(lock, stop=stop, interval=0.1, on_change=on_change)
    )
    try:
        assert await lock.still_held() is False
        assert not elected.is_set()
        leader.kill()
        await leader.wait()
        await asyncio.wait_for(elected.wait(), 10)
    finally:
        stop.set()
        await contender
        if leader.returncode is None:
            leader.kill()
            await leader.wait()
        await engine.dispose()


async def test_sqlite_always_leads(tmp_path: Path) -> None:
    """On SQLite there is a single process, so its contender always leads."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}")
    lock = LeaderLock(engine)
    assert await lock.try_acquire() is True
    assert await lock.still_held() is True
    await lock.release()
    await engine.dispose()
