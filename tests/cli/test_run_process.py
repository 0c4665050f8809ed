"""`paperboy run` as a real process: long polling our emulator, answering, stopping."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from bot.cli.commands import TOKEN_REJECTED
from bot.emulator import Emulator

TOKEN = "4242424242:run-process-test-token-abcdefghij"
RUN = "from bot.cli.commands import main; raise SystemExit(main(['run']))"


def _free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_paperboy_run_answers_and_stops_cleanly(tmp_path: Path) -> None:
    """The bot starts (uvloop, migrations), answers /help, serves /healthz and /metrics on
    METRICS_PORT, keeps its token out of the logs and exits 0 on SIGTERM."""
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
            "METRICS_PORT": str(metrics_port := _free_port()),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUN,
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            emulator.send_text(chat_id=777, user_id=777, text="/help", language_code="en")
            await emulator.wait_for(lambda: bool(emulator.texts(777)), within=60)
            assert "/search" in emulator.texts(777)[0]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{metrics_port}") as client:
                health = await client.get("/healthz")
                page = (await client.get("/metrics")).text
            assert (health.status_code, health.text) == (200, "ok\n")
            assert "paperboy_updates_handled_total 1.0" in page
            assert 'paperboy_messages_sent_total{method="sendMessage"} 1.0' in page
            assert 'paperboy_deliveries{state="sent"} 0.0' in page
        finally:
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    logs = (stdout + stderr).decode()
    assert process.returncode == 0, logs
    assert "uvloop event loop" in logs
    assert TOKEN not in logs
    assert TOKEN.split(":")[1] not in logs


async def test_a_rejected_token_ends_with_one_line_and_no_token(tmp_path: Path) -> None:
    """When the Bot API answers 401, `paperboy run` prints one clear line and exits 2: no
    traceback, no token, no unclosed-session noise (JSON logs, so every other line parses)."""
    emulator = Emulator(token="1111111111:the-token-the-emulator-accepts-abcdef")
    async with emulator.running(port=0):
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            "DIGEST_SOURCES": str(tmp_path),
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUN,
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    logs = (stdout + stderr).decode()
    assert process.returncode == 2, logs
    lines = stderr.decode().splitlines()
    assert lines[-1] == f"paperboy: {TOKEN_REJECTED}"
    assert TOKEN_REJECTED == "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather"
    assert all(line.startswith("{") for line in lines[:-1]), logs
    assert "Traceback" not in logs
    assert "Unclosed" not in logs
    assert TOKEN.split(":")[1] not in logs
