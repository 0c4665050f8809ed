"""`paperboy run` as a real process: long polling our emulator, answering, stopping."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.emulator import Emulator

TOKEN = "4242424242:run-process-test-token-abcdefghij"


async def test_paperboy_run_answers_and_stops_cleanly(tmp_path: Path) -> None:
    """The bot starts (uvloop, migrations), answers /help, keeps its token out of the logs and
    exits 0 on SIGTERM."""
    sources = tmp_path / "digests"
    sources.mkdir()
    emulator = Emulator(token=TOKEN)
    async with emulator.running(port=0):
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            "DIGEST_SOURCES": str(sources),  # no live sources from a test
            "LOG_LEVEL": "INFO",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from bot.cli.commands import main; raise SystemExit(main(['run']))",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            emulator.send_text(chat_id=777, user_id=777, text="/help", language_code="en")
            await emulator.wait_for(lambda: bool(emulator.texts(777)), within=60)
            assert "/search" in emulator.texts(777)[0]
        finally:
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    logs = (stdout + stderr).decode()
    assert process.returncode == 0, logs
    assert "uvloop event loop" in logs
    assert TOKEN not in logs
    assert TOKEN.split(":")[1] not in logs
