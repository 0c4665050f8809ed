"""A real engine subprocess SIGKILLed mid-broadcast, then restarted: exact accounting."""

from __future__ import annotations

from pathlib import Path

from bench.broadcast import (
    TOKEN,
    accounting,
    chat_ids,
    expected_texts,
    outcome,
    run_subprocess,
    run_worker,
    seed,
    worker_command,
)
from bot.emulator import Emulator


async def test_sigkill_mid_broadcast_then_restart(tmp_path: Path) -> None:
    """After SIGKILL and a restart nothing is lost and repeats never exceed ambiguous outcomes."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'kill.sqlite3'}"
    ids = chat_ids(200, 5)
    await seed(url, ids, parts=2)
    emulator = Emulator(token=TOKEN)
    async with emulator.running(port=0):
        command = worker_command(url, emulator.base_url, rate=300.0, inflight=64)
        assert await run_subprocess(emulator, command, kill_after=150) is True
        before = emulator.stats.accepted
        assert 150 <= before < len(ids) * 2
        await run_worker(url, emulator.base_url, rate=0.0, inflight=64, read_timeout=5.0)
        counts = accounting(emulator, expected_texts(ids, 2))
        result = await outcome(url)
    assert counts["lost"] == 0
    assert counts["duplicated"] <= result["ambiguous"]
    assert result["rows"]["sent"] == len(ids)
    assert emulator.stats.accepted == len(ids) * 2 + counts["duplicated"]
