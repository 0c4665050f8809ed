"""METRICS_PORT: /healthz and /metrics over real loopback HTTP, next to the real Application."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.monitor import STALE_POLLS, HealthChecks, serving
from storage.db import create_engine, session_factory
from tests.chat.conftest import running_bot

POLL_INTERVAL = 300.0


class Ticks:
    """A controllable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[Path, HealthChecks, Ticks]]:
    """Health checks over a SQLite file in its own folder (removable), a fake clock."""
    folder = tmp_path / "db"
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'bot.sqlite3'}")
    ticks = Ticks()
    checks = HealthChecks(session_factory(engine), poll_interval=POLL_INTERVAL, monotonic=ticks)
    try:
        yield folder, checks, ticks
    finally:
        await engine.dispose()


async def test_healthz_turns_503_when_polls_go_stale_or_the_engine_stops(
    database: tuple[Path, HealthChecks, Ticks],
) -> None:
    """200 while the database answers, the engine runs and the last poll is recent; 503 with
    the reason once no poll succeeded for 3 intervals or the engine loop ended."""
    _folder, checks, ticks = database
    running = [True]
    checks.engine_running = lambda: running[0]
    checks.poll_reference = lambda: 1000.0  # the last good poll
    async with (
        serving(checks, port=0) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        ticks.now += STALE_POLLS * POLL_INTERVAL
        healthy = await client.get("/healthz")
        ticks.now += 1
        stale = await client.get("/healthz")
        checks.poll_reference = lambda: None  # e.g. not the leader: polling is not ours
        not_polling = await client.get("/healthz")
        running[0] = False
        stopped = await client.get("/healthz")
    assert (healthy.status_code, healthy.text) == (200, "ok\n")
    assert stale.status_code == 503
    assert "sources: no successful poll for 901s" in stale.text
    assert not_polling.status_code == 200
    assert stopped.status_code == 503
    assert "delivery engine: its loop is not running" in stopped.text


async def test_healthz_turns_503_when_the_database_is_gone(
    database: tuple[Path, HealthChecks, Ticks],
) -> None:
    """A process whose database cannot be opened any more is reported unhealthy."""
    folder, checks, _ticks = database
    async with (
        serving(checks, port=0) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        before = await client.get("/healthz")
        shutil.rmtree(folder)
        assert checks.sessions.kw["bind"] is not None
        await checks.sessions.kw["bind"].dispose()  # new connections must open the file again
        after = await client.get("/healthz")
        page = await client.get("/metrics")
    assert before.status_code == 200
    assert after.status_code == 503
    assert after.text.startswith("unhealthy: database: OperationalError")
    assert page.status_code == 200  # the process counters are still served


async def test_metrics_count_updates_and_messages(seeded_database_url: str) -> None:
    """After an update is handled and a reply sent, /metrics shows them in Prometheus format,
    with the outbox gauges read from the database."""
    async with running_bot(seeded_database_url) as chat:
        checks = HealthChecks(chat.services.sessions)
        async with (
            serving(checks, port=0) as port,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        ):
            before = _samples((await client.get("/metrics")).text)
            assert await chat.send("/help")
            response = await client.get("/metrics")
    after = _samples(response.text)
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert after["paperboy_updates_handled_total"] == before["paperboy_updates_handled_total"] + 1
    assert after["paperboy_update_seconds_count"] == before["paperboy_update_seconds_count"] + 1
    sent = 'paperboy_messages_sent_total{method="sendMessage"}'
    assert after[sent] == before.get(sent, 0.0) + 1
    for state in ("pending", "sending", "sent", "failed", "skipped"):
        assert f'paperboy_deliveries{{state="{state}"}}' in after
    for name in (
        "paperboy_delivery_last_sent_timestamp_seconds",
        "paperboy_telegram_retry_after_seconds_count",
        "paperboy_updates_repeated_total",
    ):
        assert name in after


def _samples(page: str) -> dict[str, float]:
    """`name{labels}` → value of every sample line of a Prometheus text page."""
    found: dict[str, float] = {}
    for line in page.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found
