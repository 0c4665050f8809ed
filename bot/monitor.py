"""The operations HTTP server (METRICS_PORT): `GET /healthz` and `GET /metrics` for Prometheus.

`/healthz` checks what this process runs: the database always, the delivery engine loop when
the process runs one, and the last successful source poll when it polls (3 poll intervals at
most). `/metrics` serves this process's counters (bot.metrics) and, read from the database at
scrape time, the outbox rows by state and when the last one was sent. Wiring: may import storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from storage.deliveries import counts_by_state, last_sent_at

log = logging.getLogger(__name__)
METRICS_HOST = "127.0.0.1"  # scraped from the same host (or a sidecar); never public
STALE_POLLS = 3  # polls missed before /healthz says polling is stuck
DATABASE_TIMEOUT = 5.0
# What generate_latest writes (prometheus_client's "latest" names 1.0.0, which older
# Prometheus servers do not know).
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


def _never() -> None:
    """A probe for something this process does not run."""
    return None


@dataclass(slots=True)
class HealthChecks:
    """What `/healthz` checks; a probe answering None means "not run by this process".

    `engine_running`: whether the delivery engine loop is alive. `poll_reference`: the
    monotonic time of the last successful poll (or of when polling started, before the first
    one); stale after `STALE_POLLS` × `poll_interval` seconds.
    """

    sessions: async_sessionmaker[AsyncSession]
    engine_running: Callable[[], bool | None] = _never
    poll_reference: Callable[[], float | None] = _never
    poll_interval: float = 300.0
    monotonic: Callable[[], float] = time.monotonic

    async def problems(self) -> list[str]:
        """Why this process is unhealthy (empty: healthy)."""
        found: list[str] = []
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT), self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            found.append(f"database: {type(exc).__name__}: {first}")
        if self.engine_running() is False:
            found.append("delivery engine: its loop is not running")
        reference = self.poll_reference()
        if reference is not None:
            age = self.monotonic() - reference
            if age > STALE_POLLS * self.poll_interval:
                found.append(
                    f"sources: no successful poll for {age:.0f}s "
                    f"(DIGEST_POLL_INTERVAL is {self.poll_interval:.0f}s)"
                )
        return found


async def refresh_database_gauges(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Read the outbox's rows by state and its last sent time into the gauges."""
    async with asyncio.timeout(DATABASE_TIMEOUT), sessions() as session:
        counts = await counts_by_state(session)
        sent = await last_sent_at(session)
    for state, count in counts.items():
        metrics.DELIVERIES.labels(state).set(count)
    metrics.LAST_DELIVERY.set(sent.timestamp() if sent is not None else 0)


def monitor_app(checks: HealthChecks) -> web.Application:
    """The aiohttp application with `/healthz` and `/metrics`."""

    async def healthz(_request: web.Request) -> web.Response:
        problems = await checks.problems()
        if problems:
            return web.Response(status=503, text="unhealthy: " + "; ".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def metrics_page(_request: web.Request) -> web.Response:
        try:
            await refresh_database_gauges(checks.sessions)
        except Exception as exc:  # the process counters are still worth serving
            log.warning("metrics: database gauges not refreshed: %s", type(exc).__name__)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": TEXT_FORMAT})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app


@contextlib.asynccontextmanager
async def serving(
    checks: HealthChecks, *, port: int | None, host: str = METRICS_HOST
) -> AsyncIterator[int | None]:
    """Serve `/healthz` and `/metrics` on host:port while in the block (port None: nothing).

    Yields the bound port (useful with port 0).
    """
    if port is None:
        yield None
        return
    runner = web.AppRunner(monitor_app(checks), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        log.info("metrics and health on http://%s:%d (/metrics, /healthz)", host, bound)
        yield int(bound)
    finally:
        await runner.cleanup()
