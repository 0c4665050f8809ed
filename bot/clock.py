"""The clock: PTB's JobQueue (APScheduler) runs `poll` and `dispatch` every few minutes.

It only asks; the database decides (`bot.delivery.dispatch`). It also supervises the delivery
engine task: should it ever end while the bot runs, the error is logged and the engine restarted
(after 1 s, doubling up to 30 s while it keeps dying). Wiring: may import every layer of `bot`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from telegram.ext import Application, CallbackContext

from bot.allocator import release_memory
from bot.app import StartupHook
from bot.config import Settings
from bot.content.sources import Poller, PollReport, Source, configured_sources
from bot.delivery.dispatch import DispatchReport, SchedulePolicy, dispatch, settle_readiness
from bot.delivery.engine import DeliveryEngine, build_delivery_bot
from bot.delivery.foryou import anyone_served, warm_for_you
from bot.delivery.ratelimit import Limits, RateScheduler
from bot.recommend import FEATURES_KEY
from bot.services import SERVICES_KEY, Services

if TYPE_CHECKING:  # the summarizer (and openai, ~16 MB) loads only where it is configured
    from bot.content.summarizer import BackgroundSummaries
    from bot.recommend.compute import FeatureCache  # scikit-learn: only once someone is served

log = logging.getLogger(__name__)
RUNTIME_KEY = "delivery_runtime"
RESTART_PAUSE_CAP = 30.0
RESTART_RESET = 300.0  # seconds an engine must have run for its restarts to count from zero
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


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
    summaries: BackgroundSummaries | None = field(default=None, init=False)  # when configured
    first_poll: asyncio.Task[None] | None = field(default=None, init=False)
    warming: asyncio.Task[None] | None = field(default=None, init=False)  # features after a poll
    polling: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)  # one poll at a time
    restarts: int = field(default=0, init=False)  # in a row: reset after a run of RESTART_RESET
    # Monotonic times for /healthz: the last poll without a failed source, and when polling
    # (re)started here (creation, or winning the leader lock): its age before a first poll.
    last_poll: float | None = field(default=None, init=False)
    polls_since: float = field(default_factory=time.monotonic, init=False)
    # The application's bot_data (prepare_runtime): what the jobs share with the handlers.
    shared: dict[Any, Any] = field(default_factory=dict, repr=False)
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
        """Poll every source once (never two polls at once: the first overlaps the job's)."""
        async with (
            self.polling,
            Poller(
                self.sources, sessions=self.services.sessions, clock=self.services.clock
            ) as poller,
        ):
            report = await poller.poll()
        if not report.failed:
            self.last_poll = time.monotonic()
        if self.services.settings.summary_api_base_url is not None:
            # New papers get Korean summaries at once, in the background: a slow endpoint
            # must never hold up a poll or a dispatch. Today's and yesterday's papers are
            # asked for on every poll too, so one that failed for a while is tried again.
            services = self.services
            from bot.content.summarizer import BackgroundSummaries

            self.summaries = self.summaries or BackgroundSummaries(
                services.settings, sessions=services.sessions, clock=services.clock
            )
            today = services.clock().astimezone(dt.UTC).date()
            self.summaries.request(report.days | {today, today - dt.timedelta(days=1)})
        if report.stored and FEATURES_KEY in self.shared:
            # Someone is served "for you": rebuild its features now, in the background, so
            # the dispatch pass the new day starts finds them ready (a build is seconds).
            self._start_warming()
        return report

    def _start_warming(self) -> None:
        """Warm "for you" up in the background (`_warm_features`)."""
        self.warming = asyncio.create_task(self._warm_features(), name="paperboy-features")

    async def _warm_features(self) -> None:
        """Bring the "for you" features up to the archive and compute the served libraries'
        kernels (errors logged: dispatch retries)."""
        try:
            async with self.services.sessions() as session:
                await warm_for_you(session, self.feature_cache())
        except Exception:
            log.exception("warming the for-you features failed")

    def feature_cache(self) -> FeatureCache:
        """The archive's features for "for you" (made on first use, shared with /foryou)."""
        from bot.recommend.compute import FeatureCache

        cache = self.shared.get(FEATURES_KEY)
        if not isinstance(cache, FeatureCache):
            cache = self.shared[FEATURES_KEY] = FeatureCache()
        return cache

    def engine_running(self) -> bool | None:
        """Whether the engine loop is alive (None: this process runs no engine)."""
        if self.engine is None:
            return None
        return self.task is not None and not self.task.done()

    def poll_reference(self) -> float:
        """Since when polls are overdue: the last good poll, or when polling started here."""
        return max(self.last_poll or 0.0, self.polls_since)

    async def poll_at_start(self) -> None:
        """The first poll, at once (errors logged: the job polls again an interval later)."""
        try:
            report = await self.poll()
        except Exception:
            log.exception("the first poll failed")
        else:
            log.info("first poll: %s", report)
        if self.warming is None:
            # A restarted bot whose chats are served "for you" warms up now: otherwise the
            # first pass would build the features and every library's kernels itself.
            try:
                async with self.services.sessions() as session:
                    served = await anyone_served(session)
            except Exception:
                log.exception('checking for "for you" readers failed')
            else:
                if served:
                    self._start_warming()

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
                    session,
                    now=now,
                    settings=self.services.settings,
                    policy=self.policy,
                    features=self.feature_cache,
                )
            report.ready = ready + report.ready
        # Every minute: what malloc kept from this pass, from a broadcast or a burst of
        # look-ups since the last one goes back to the system (a few ms; bot/allocator.py).
        release_memory()
        if report.queued:
            log.info(
                "dispatch queued %d digests, %d weekly (%d late), %d updates, %d polls; "
                "%d empty selections",
                report.digests,
                report.weekly,
                report.late,
                report.updates,
                report.polls,
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
        for task in (self.first_poll, self.warming):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.summaries is not None:
            await self.summaries.aclose()
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
        policy or SchedulePolicy.from_settings(services.settings),
        shared=application.bot_data,
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
    """Poll now and every `poll_interval`; dispatch (catch-up first) every minute.

    The first poll is our own task, not the job's: asked with `first=0`, APScheduler's interval
    trigger found that moment already past and moved it a whole interval on, so every start
    waited `poll_interval` for its first poll.
    """
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    policy = runtime.policy
    runtime.first_poll = asyncio.create_task(runtime.poll_at_start(), name="paperboy-first-poll")
    interval = policy.poll_interval
    queue.run_repeating(_poll_job, interval, first=interval, name="paperboy-poll")
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
    _shut_down_with(application, runtime)
    return engine


def _shut_down_with(application: AnyApplication, runtime: DeliveryRuntime) -> None:
    """Shut the runtime down in the application's `post_stop` (before what was there)."""
    previous = application.post_stop

    async def post_stop(app: AnyApplication) -> None:
        await runtime.shutdown()
        if previous is not None:
            await previous(app)

    application.post_stop = post_stop


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
            if not engine:  # the engine's start already arranged the shutdown
                _shut_down_with(application, runtime)
        names = ", ".join(source.name for source in runtime.sources)
        log.info("delivery started (engine=%s, jobs=%s); sources: %s", engine, jobs, names)

    del settings  # the services' settings are authoritative; kept for the documented signature
    return [start]
