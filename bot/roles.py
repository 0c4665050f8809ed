"""Process roles for `paperboy run --role all|updates|delivery` (several workers on PostgreSQL).

- `all` (default): Telegram updates (handlers), the scheduled jobs and the delivery engine.
- `updates`: handlers and the scheduled jobs, no engine (delivery workers send).
- `delivery`: the delivery engine only, headless: no Application, no getUpdates, no webhook.

On PostgreSQL the jobs (source polls, dispatch) run only while this process holds the
cluster-wide leader lock (`storage.leader`): they are registered disabled and enabled on
election, disabled again on loss. The engine claims rows under leases (only rows whose lease
ran out are recovered at start, as other workers may be alive) and books the overall 30/s in
the database (`bot.delivery.sharedrate`). On SQLite there is one process: role `all` only,
and it keeps the single-process set-up of `bot.clock.delivery_hooks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.app import AnyApplication, StartupHook
from bot.clock import delivery_hooks, prepare_runtime
from bot.config import Settings
from bot.delivery.engine import DeliveryEngine, build_delivery_bot
from bot.delivery.ratelimit import Limits, RateScheduler
from bot.delivery.sharedrate import SharedRate
from bot.monitor import HealthChecks, serving
from bot.services import utc_now
from storage.db import create_engine, session_factory
from storage.leader import LeaderLock, keep_leading

log = logging.getLogger(__name__)
Role = Literal["all", "updates", "delivery"]
ROLES: tuple[Role, ...] = ("all", "updates", "delivery")
JOB_PREFIX = "paperboy-"
LEADER_INTERVAL = 5.0


class RoleRefused(ValueError):
    """A role that the configured database cannot support."""


def is_shared_database(url: str) -> bool:
    """Whether several processes may share this database (PostgreSQL, not SQLite)."""
    return url.startswith("postgresql")


def check_role(role: Role, database_url: str) -> None:
    """Refuse split roles on SQLite, with one clear line."""
    if role != "all" and not is_shared_database(database_url):
        raise RoleRefused(
            f"--role {role} needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://…); "
            "SQLite runs a single process: use --role all"
        )


def cluster_engine(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    rate: float | None = None,
) -> DeliveryEngine:
    """An engine for a shared database: leases, and the overall rate booked cluster-wide."""
    overall = Limits().global_rate if rate is None else rate
    return DeliveryEngine(
        bot=bot,
        sessions=sessions,
        # Per-chat and per-group limits stay local; the overall one is the shared gate's.
        scheduler=RateScheduler(Limits(global_rate=0.0), time.monotonic),
        clock=clock,
        gate=SharedRate(sessions, rate=overall),
    )


def role_hooks(settings: Settings, role: Role) -> list[StartupHook]:
    """Start-up hooks for an Application running `role` ("all" or "updates"), then the
    metrics and health server when METRICS_PORT is set."""
    hooks: list[StartupHook] = []
    if not is_shared_database(settings.database_url):
        hooks.extend(delivery_hooks(settings, live=True))
    else:
        if role == "all":
            hooks.append(_start_cluster_engine)
        hooks.extend(delivery_hooks(settings, live=True, engine=False, jobs=True))
        hooks.append(_lead_jobs)
    if settings.metrics_port is not None:
        hooks.append(_start_monitor)
    return hooks


def _polling(application: AnyApplication) -> bool:
    """Whether this process runs the poll job now (on PostgreSQL: while it leads)."""
    queue = application.job_queue
    return queue is not None and any(
        job.enabled for job in queue.get_jobs_by_name(f"{JOB_PREFIX}poll")
    )


async def _start_monitor(application: AnyApplication) -> None:
    """Serve /healthz and /metrics until the application stops."""
    runtime = prepare_runtime(application, live=True)
    settings = runtime.services.settings
    checks = HealthChecks(
        runtime.services.sessions,
        engine_running=runtime.engine_running,
        poll_reference=lambda: runtime.poll_reference() if _polling(application) else None,
        poll_interval=settings.digest_poll_interval * 60,
    )
    stack = contextlib.AsyncExitStack()
    await stack.enter_async_context(serving(checks, port=settings.metrics_port))
    _chain_post_stop(application, stack.aclose)


async def _start_cluster_engine(application: AnyApplication) -> None:
    """Start a leased, cluster-paced engine next to the handlers (role `all`)."""
    runtime = prepare_runtime(application, live=True)
    token = runtime.services.settings.telegram_bot_token
    if token is None:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    bot = build_delivery_bot(
        token.get_secret_value(), base_url=runtime.services.settings.telegram_api_base_url
    )
    await bot.initialize()
    engine = cluster_engine(bot, runtime.services.sessions)
    await engine.recover(only_expired=True)
    runtime.start(engine)
    _chain_post_stop(application, runtime.shutdown)


def _set_jobs(application: AnyApplication, enabled: bool) -> None:
    """Enable or disable paperboy's scheduled jobs in this process."""
    if application.job_queue is None:
        return
    for job in application.job_queue.jobs():
        if job.name is not None and job.name.startswith(JOB_PREFIX):
            job.enabled = enabled


async def _lead_jobs(application: AnyApplication) -> None:
    """Run the jobs only while this process holds the leader lock."""
    _set_jobs(application, False)  # before the job queue starts: nothing fires un-elected
    runtime = prepare_runtime(application, live=True)
    engine = create_engine(runtime.services.settings.database_url)
    stop = asyncio.Event()

    async def on_change(leading: bool) -> None:
        _set_jobs(application, leading)
        if leading:  # a poll is due within an interval from now, not since the last one here
            runtime.polls_since = time.monotonic()

    task = asyncio.create_task(
        keep_leading(LeaderLock(engine), stop=stop, interval=LEADER_INTERVAL, on_change=on_change)
    )

    async def stop_leading() -> None:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.dispose()

    _chain_post_stop(application, stop_leading)


def _chain_post_stop(application: AnyApplication, action: Callable[[], Awaitable[None]]) -> None:
    """Run `action` when the application stops, before any earlier post_stop."""
    previous = application.post_stop

    async def post_stop(app: AnyApplication) -> None:
        await action()
        if previous is not None:
            await previous(app)

    application.post_stop = post_stop


async def serve_delivery(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Role `delivery`: run the engine alone until SIGTERM/SIGINT (or `stop`)."""
    token = settings.telegram_bot_token
    if token is None:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    database = create_engine(settings.database_url)
    try:
        bot = build_delivery_bot(token.get_secret_value(), base_url=settings.telegram_api_base_url)
        async with bot:
            sessions = session_factory(database)
            engine = cluster_engine(bot, sessions)
            await engine.recover(only_expired=True)
            log.info("delivery worker %s started", engine.worker)
            task = asyncio.create_task(engine.run(stop=stop), name="paperboy-delivery")
            checks = HealthChecks(sessions, engine_running=lambda: not task.done())
            async with serving(checks, port=settings.metrics_port):
                await task
    finally:
        await database.dispose()
