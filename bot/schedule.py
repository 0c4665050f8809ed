"""What is due, and the clock that asks: readiness, dispatch, and the JobQueue jobs.

The database decides what is due; PTB's JobQueue (APScheduler) is only a clock that runs
`poll` every few minutes and `dispatch` every minute. Everything that decides takes `now`
explicitly, so tests drive it with a controllable clock.

Readiness: a day's digest is *settled* when it has not changed for `settle` (30 min) or was
first seen more than `max_wait` (3 h) ago; the first settled moment is stored as `ready_at`.
A digest that changes again is held until it settles again.

Due: a chat's delivery windows open at its `delivery_time` on its weekdays, in its time zone,
and close at local midnight. A digest falls due for a chat at the first window opening at or
after its `ready_at` (or at `ready_at` itself when that is inside a window). It is delivered
when due, unless it fell due before the chat subscribed, more than `catchup_days` ago, or is
more than `max_age_days` older than the local date it fell due on (an archive backfill is
never broadcast). Rows created more than `late_grace` after the digest fell due (after
downtime: catch-up on start) are marked late. Papers that arrive after a chat's row was made go
out, once the digest settles again, as an "update" row with only the papers the chat has not
seen (the `known_ids` of its rows for the day, except `failed` rows, whose papers never arrived);
an empty selection is recorded as a `skipped` row, so nothing is sent and nothing repeated.

The engine runs as a supervised task: should it ever end while the bot runs, the error is logged
and the engine restarted (after 1 s, doubling up to 30 s while it keeps dying).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackContext

from bot.app import StartupHook
from bot.compose import PlannedRow, RenderCache, RowKind, plan_row
from bot.config import Settings
from bot.delivery import DeliveryEngine, build_delivery_bot
from bot.digest.models import Paper
from bot.ratelimit import Limits, RateScheduler
from bot.services import SERVICES_KEY, Services
from bot.sources import Poller, PollReport, Source, configured_sources
from storage.chats import Chat, subscribed_chats
from storage.deliveries import (
    DigestReadiness,
    RowKey,
    add_deliveries,
    known_ids,
    mark_ready,
    new_key,
    ready_days,
    row_keys,
    unready_days,
)
from storage.papers import digest_for_date, digest_papers

log = logging.getLogger(__name__)
RUNTIME_KEY = "delivery_runtime"
RESTART_PAUSE_CAP = 30.0
RESTART_RESET = 300.0  # seconds an engine must have run for its restarts to count from zero
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    """The knobs of readiness, catch-up and the job intervals."""

    settle: dt.timedelta = dt.timedelta(minutes=30)
    max_wait: dt.timedelta = dt.timedelta(hours=3)
    catchup_days: int = 3
    max_age_days: int = 2
    late_grace: dt.timedelta = dt.timedelta(minutes=30)
    poll_interval: dt.timedelta = dt.timedelta(minutes=5)
    dispatch_interval: dt.timedelta = dt.timedelta(minutes=1)


# readiness


def settled(row: DigestReadiness, now: dt.datetime, policy: SchedulePolicy) -> bool:
    """Whether the day's digest may go out now: unchanged for `settle`, or waited long enough."""
    return now - row.last_changed_at >= policy.settle or now - row.first_seen_at >= policy.max_wait


async def settle_readiness(
    session: AsyncSession, *, now: dt.datetime, policy: SchedulePolicy
) -> list[dt.date]:
    """Mark ready every seen day that has settled; returns the days marked now.

    `ready_at` is when the day settled, not when this pass noticed: after downtime, catch-up
    can tell that a chat's delivery time passed while the digest was already complete.
    """
    marked: list[dt.date] = []
    for row in await unready_days(session):
        if settled(row, now, policy):
            moment = min(row.last_changed_at + policy.settle, row.first_seen_at + policy.max_wait)
            await mark_ready(session, date=row.date, now=moment)
            marked.append(row.date)
    return marked


# when a chat is due (pure)


@dataclass(frozen=True, slots=True)
class ChatSchedule:
    """When a chat takes deliveries: its time, zone, ISO weekdays, and since when."""

    zone: zoneinfo.ZoneInfo
    at: dt.time
    weekdays: frozenset[int]
    since: dt.datetime

    @classmethod
    def of(cls, chat: Chat, *, default_zone: str = "Asia/Seoul") -> ChatSchedule:
        """A chat row's schedule (a bad stored zone or time falls back to the default)."""
        try:
            zone = zoneinfo.ZoneInfo(chat.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(default_zone)
        try:
            at = dt.time.fromisoformat(chat.delivery_time)
        except ValueError:
            at = dt.time(9, 0)
        days = frozenset(int(c) for c in chat.weekdays if c.isdigit() and 1 <= int(c) <= 7)
        return cls(zone, at, days, chat.subscribed_at or chat.created_at)


def due_moment(schedule: ChatSchedule, ready_at: dt.datetime) -> dt.datetime | None:
    """The first moment at or after `ready_at` inside one of the chat's delivery windows."""
    local = ready_at.astimezone(schedule.zone)
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        if day.isoweekday() not in schedule.weekdays:
            continue
        opening = dt.datetime.combine(day, schedule.at, schedule.zone)
        if opening >= ready_at:
            return opening.astimezone(dt.UTC)
        if offset == 0:
            return ready_at  # the window is open already: deliver as soon as it is ready
    return None


@dataclass(frozen=True, slots=True)
class Planned:
    """A digest a chat should get now."""

    date: dt.date
    late: bool


def plan_digests(
    schedule: ChatSchedule,
    days: Sequence[tuple[dt.date, dt.datetime]],
    delivered: set[dt.date],
    now: dt.datetime,
    policy: SchedulePolicy,
) -> list[Planned]:
    """The (date, ready_at) days due for the chat now and not delivered yet, oldest first."""
    planned: list[Planned] = []
    oldest = now - dt.timedelta(days=policy.catchup_days)
    for day, ready_at in sorted(days):
        if day in delivered:
            continue
        due = due_moment(schedule, ready_at)
        if due is None or due > now or due < schedule.since or due < oldest:
            continue
        if day < due.astimezone(schedule.zone).date() - dt.timedelta(days=policy.max_age_days):
            continue
        planned.append(Planned(day, late=now - due > policy.late_grace))
    return planned[-policy.catchup_days :] if policy.catchup_days > 0 else []


def needs_update(
    row: DigestReadiness,
    made_at: dt.datetime,
    now: dt.datetime,
    policy: SchedulePolicy,
    schedule: ChatSchedule,
) -> bool:
    """Whether the day changed after the chat's last row was made, has settled since, and the
    chat is inside a delivery window: papers added at night reach a 09:00 chat at 09:00, and
    a weekdays-only chat on Monday, not at 01:30 on Saturday."""
    if row.last_changed_at <= made_at or now - row.last_changed_at < policy.settle:
        return False
    due = due_moment(schedule, row.last_changed_at + policy.settle)
    return due is not None and due <= now


# dispatch (session only, explicit now)


@dataclass(slots=True)
class DispatchReport:
    """What one dispatch pass queued."""

    ready: list[dt.date] = field(default_factory=list)
    digests: int = 0
    updates: int = 0
    late: int = 0
    empty: int = 0

    @property
    def queued(self) -> int:
        """Rows that will send messages."""
        return self.digests + self.updates


@dataclass(slots=True)
class _Day:
    """A ready day's deliverable digest, loaded once per pass."""

    readiness: DigestReadiness
    digest_id: int
    papers: list[Paper]


class _Dispatcher:
    """One pass over the subscribed chats (state lives for one pass only)."""

    def __init__(
        self, session: AsyncSession, now: dt.datetime, policy: SchedulePolicy, settings: Settings
    ) -> None:
        self.session, self.now, self.policy, self.settings = session, now, policy, settings
        self.report = DispatchReport()
        self.cache = RenderCache()
        self.planned: list[PlannedRow] = []

    async def run(self) -> DispatchReport:
        """Queue every digest and update that is due now."""
        self.report.ready = await settle_readiness(self.session, now=self.now, policy=self.policy)
        since = (self.now - dt.timedelta(days=self.policy.catchup_days + 2)).date()
        since -= dt.timedelta(days=self.policy.max_age_days)
        days = await self._load_days(since)
        if not days:
            return self.report
        rows: dict[int, dict[dt.date, list[RowKey]]] = defaultdict(lambda: defaultdict(list))
        for key in await row_keys(self.session, since=since):
            rows[key.chat_id][key.digest_date].append(key)
        # Nothing in the loop changes the loaded chats: without autoflush, each insert does not
        # scan thousands of them for changes (quadratic on a big broadcast).
        with self.session.no_autoflush:
            for chat in await subscribed_chats(self.session):
                await self._chat(chat, days, rows.get(chat.chat_id, {}))
        # One insert at the end: on SQLite the write lock is held for it, not for the pass.
        added = await add_deliveries(self.session, rows=[plan.row for plan in self.planned])
        for plan in self.planned:
            if new_key(plan.row) in added:
                self._count(plan)
        return self.report

    def _count(self, plan: PlannedRow) -> None:
        """Count a row this pass added."""
        if not plan.chosen:
            self.report.empty += 1
        elif plan.row["kind"] == "update":
            self.report.updates += 1
        else:
            self.report.digests += 1
            self.report.late += plan.row["late"]

    async def _load_days(self, since: dt.date) -> dict[dt.date, _Day]:
        """Ready, currently settled days with their digest's papers."""
        found: dict[dt.date, _Day] = {}
        for row in await ready_days(self.session, since=since):
            if not settled(row, self.now, self.policy):
                continue  # it grew again: hold it until it settles
            info = await digest_for_date(self.session, date=row.date)
            if info is not None:
                papers = await digest_papers(self.session, digest_id=info.id)
                found[row.date] = _Day(row, info.id, papers)
        return found

    async def _chat(
        self, chat: Chat, days: dict[dt.date, _Day], rows: dict[dt.date, list[RowKey]]
    ) -> None:
        """Queue the chat's due digests, then its updates."""
        schedule = ChatSchedule.of(chat, default_zone=self.settings.default_timezone)
        delivered = {day for day, keys in rows.items() if any(k.kind == "digest" for k in keys)}
        ready = [(day, item.readiness.ready_at) for day, item in days.items()]
        candidates = [(day, at) for day, at in ready if at is not None]
        for plan in plan_digests(schedule, candidates, delivered, self.now, self.policy):
            await self._queue(chat, days[plan.date], kind="digest", seq=0, late=plan.late)
        for day in sorted(delivered & days.keys()):
            keys = rows[day]
            made = max(key.created_at for key in keys)
            if self._recent(day, schedule) and needs_update(
                days[day].readiness, made, self.now, self.policy, schedule
            ):
                seq = max(key.seq for key in keys) + 1
                await self._queue(chat, days[day], kind="update", seq=seq, late=False)

    def _recent(self, day: dt.date, schedule: ChatSchedule) -> bool:
        """Whether updates for `day` are still worth sending."""
        today = self.now.astimezone(schedule.zone).date()
        return day >= today - dt.timedelta(days=self.policy.max_age_days)

    async def _queue(self, chat: Chat, day: _Day, *, kind: RowKind, seq: int, late: bool) -> None:
        """Select and render one row (a `skipped` one when the selection is empty)."""
        date = day.readiness.date
        seen: set[str] = set()
        if kind == "update":
            seen = await known_ids(self.session, chat_id=chat.chat_id, digest_date=date)
        plan = plan_row(
            chat=chat,
            date=date,
            papers=day.papers,
            digest_id=day.digest_id,
            kind=kind,
            seq=seq,
            now=self.now,
            default_language=self.settings.default_language,
            late=late,
            seen=seen,
            cache=self.cache,
        )
        self.planned.append(plan)


async def dispatch(
    session: AsyncSession,
    *,
    now: dt.datetime,
    settings: Settings,
    policy: SchedulePolicy | None = None,
) -> DispatchReport:
    """Mark settled days ready and queue every digest and update due at `now` (no commit)."""
    return await _Dispatcher(session, now, policy or SchedulePolicy(), settings).run()


# the runtime: jobs and the engine


@dataclass(slots=True)
class DeliveryRuntime:
    """What the jobs and the engine share in one process (kept in bot_data)."""

    services: Services
    sources: list[Source]
    policy: SchedulePolicy
    engine: DeliveryEngine | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    restart_pause: float = 1.0  # doubling up to RESTART_PAUSE_CAP while the engine keeps dying
    restarts: int = field(default=0, init=False)  # in a row: reset after a run of RESTART_RESET
    _started: float = field(default=0.0, init=False, repr=False)
    _restart: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)

    def start(self, engine: DeliveryEngine) -> None:
        """Run `engine` as a background task that is restarted if it ever ends unasked.

        Restart, not crash: the process also answers commands, often runs without a supervisor
        (`paperboy run` on SQLite), and the loop already survives its own errors, so an end is a
        bug to log loudly while the digests keep going out.
        """
        self.engine = engine
        self._spawn()

    def _spawn(self) -> None:
        """Start the engine task (unless stopping)."""
        self._restart = None
        if self.engine is None or self.stop.is_set():
            return
        self._started = time.monotonic()
        self.task = asyncio.create_task(self.engine.run(stop=self.stop), name="paperboy-delivery")
        self.task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """Done-callback of the engine task: log an unasked end and schedule a restart."""
        error = None if task.cancelled() else task.exception()
        if self.stop.is_set():
            return
        reason = "cancelled" if task.cancelled() else "returned"
        if error is not None:
            reason = f"{type(error).__name__}: {error}"
        if time.monotonic() - self._started >= RESTART_RESET:
            self.restarts = 0
        self.restarts += 1
        delay = min(RESTART_PAUSE_CAP, self.restart_pause * 2.0 ** min(self.restarts - 1, 32))
        log.error(
            "delivery engine stopped (%s); restarting it in %.0fs", reason, delay, exc_info=error
        )
        self._restart = asyncio.get_running_loop().call_later(delay, self._spawn)

    async def poll(self) -> PollReport:
        """Poll every source once."""
        async with Poller(
            self.sources, sessions=self.services.sessions, clock=self.services.clock
        ) as poller:
            return await poller.poll()

    async def dispatch(self) -> DispatchReport:
        """One dispatch pass in its own transaction, then wake the engine."""
        now = self.services.clock()
        async with self.lock:
            # Days settle in a short transaction of their own: marking one ready is a write,
            # and on SQLite the pass would then hold the write lock while it plans every chat.
            async with self.services.sessions.begin() as session:
                ready = await settle_readiness(session, now=now, policy=self.policy)
            async with self.services.sessions.begin() as session:
                report = await dispatch(
                    session, now=now, settings=self.services.settings, policy=self.policy
                )
            report.ready = ready + report.ready
        if report.queued:
            log.info(
                "dispatch queued %d digests (%d late), %d updates; %d empty selections",
                report.digests,
                report.late,
                report.updates,
                report.empty,
            )
            if self.engine is not None:
                self.engine.wake()
        return report

    async def tick(self) -> None:
        """A poll followed by a dispatch (what the console or a test may call by hand)."""
        await self.poll()
        await self.dispatch()

    async def shutdown(self) -> None:
        """Stop the engine loop and close its bot."""
        self.stop.set()
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
        if self.task is not None:
            # An engine that died was logged by `_ended`; shutting down goes on regardless.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
            self.task = None
        if self.engine is not None:
            await self.engine.bot.shutdown()


def runtime_of(application: AnyApplication) -> DeliveryRuntime:
    """The application's delivery runtime, created on first use."""
    runtime = application.bot_data.get(RUNTIME_KEY)
    if not isinstance(runtime, DeliveryRuntime):
        raise LookupError("no delivery runtime: call prepare_runtime first")
    return runtime


def prepare_runtime(
    application: AnyApplication,
    *,
    services: Services | None = None,
    sources: Sequence[Source] | None = None,
    policy: SchedulePolicy | None = None,
    live: bool = True,
) -> DeliveryRuntime:
    """Create (once) the runtime shared by the jobs and the engine."""
    existing = application.bot_data.get(RUNTIME_KEY)
    if isinstance(existing, DeliveryRuntime):
        return existing
    services = services or cast(Services, application.bot_data[SERVICES_KEY])
    chosen = list(sources) if sources is not None else None
    runtime = DeliveryRuntime(
        services,
        chosen if chosen is not None else configured_sources(services.settings, live=live),
        policy or SchedulePolicy(),
    )
    application.bot_data[RUNTIME_KEY] = runtime
    return runtime


async def _poll_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """JobQueue callback: poll the sources."""
    runtime = cast(DeliveryRuntime, context.bot_data[RUNTIME_KEY])
    report = await runtime.poll()
    log.debug("poll: %s", report)


async def _dispatch_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """JobQueue callback: queue what is due and wake the engine."""
    await cast(DeliveryRuntime, context.bot_data[RUNTIME_KEY]).dispatch()


def register_jobs(application: AnyApplication, runtime: DeliveryRuntime) -> None:
    """Poll now and every `poll_interval`; dispatch (catch-up first) every minute."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    policy = runtime.policy
    queue.run_repeating(_poll_job, policy.poll_interval, first=0.0, name="paperboy-poll")
    queue.run_repeating(
        _dispatch_job, policy.dispatch_interval, first=1.0, name="paperboy-dispatch"
    )


async def start_engine(
    application: AnyApplication, runtime: DeliveryRuntime, *, limits: Limits | None = None
) -> DeliveryEngine:
    """Start the delivery engine (its own bot, no PTB limiter) as a background task.

    Rows a crash left `sending` are recovered first; `post_stop` stops the loop.
    """
    settings = runtime.services.settings
    if settings.telegram_bot_token is None:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    bot = build_delivery_bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    )
    await bot.initialize()
    engine = DeliveryEngine(
        bot=bot,
        sessions=runtime.services.sessions,
        scheduler=RateScheduler(limits or Limits(), time.monotonic),
        clock=runtime.services.clock,
    )
    await engine.recover()
    runtime.start(engine)
    previous = application.post_stop

    async def post_stop(app: AnyApplication) -> None:
        await runtime.shutdown()
        if previous is not None:
            await previous(app)

    application.post_stop = post_stop
    return engine


def delivery_hooks(
    settings: Settings,
    services: Services | None = None,
    *,
    live: bool = True,
    jobs: bool = True,
    engine: bool = True,
) -> list[StartupHook]:
    """Start-up hooks for `build_application(on_startup=...)`: the engine, then the jobs.

    `jobs` and `engine` let a process take one role only (a delivery worker, an updates worker).
    """

    async def start(application: AnyApplication) -> None:
        runtime = prepare_runtime(application, services=services, live=live)
        if engine:
            await start_engine(application, runtime)
        if jobs:
            register_jobs(application, runtime)
        names = ", ".join(source.name for source in runtime.sources)
        log.info("delivery started (engine=%s, jobs=%s); sources: %s", engine, jobs, names)

    del settings  # the services' settings are authoritative; kept for the documented signature
    return [start]
