"""The delivery engine: claims due outbox rows and sends them through the Bot API, within limits.

Guarantees and policies (see "Delivery semantics" in DESIGN.md):
- Order: a chat's rows are claimed one at a time, oldest first (`claim_due` skips a row while an
  earlier row of its chat is open), and a row sends its messages in order, recording each
  message id as it goes, so a crash mid-digest resumes at the first unsent message. A "poll"
  row's one message is a journal-club poll (JSON): sent with `sendPoll` under the same limits
  and journal, and recorded in `polls` for `/poll close`.
- Journal: `sending` is committed before each call and the message id (or `sent`) after it.
  Many concurrent sends share one group commit, so the database never limits throughput.
  A row becomes `sending` only once every limit granted its call a slot (scheduler, window,
  shared gate): rows waiting for the rate limiter stay `pending` under their claim, so after a
  crash only calls that may really have left count as ambiguous. The window place (or gate
  slot) is held across that commit, so a slow commit never bunches calls over the limit.
- Limits: `bot.ratelimit.RateScheduler` paces every send; a `RetryAfter` pauses that chat (or
  everything when several chats get one at once) and the message is retried; it does not count
  as a failed attempt.
- `Forbidden` (blocked, kicked) and "chat not found": the chat is deactivated and its open rows
  are `skipped`. `ChatMigrated`: the subscription and open rows move to the new id and the
  message is resent there at once. Network errors, 5xx and timeouts: retried with capped
  exponential backoff and jitter for as long as `RetryPolicy.give_up_after` (6 h) since the row
  fell due, so a Telegram outage delays the digest instead of losing it; then `failed` with the
  reason. Other `BadRequest`s are bugs: `failed` at once, logged with the chat and the day.
- The loop outlives its own errors: a round that raises (say SQLite's "database is locked" while
  another process holds the write lock) is logged and tried again after a pause growing from
  1 s to 30 s, back to 1 s after a good round.
- Ambiguous outcomes (policy: at-least-once). Telegram has no idempotency key, so a request that
  may have left without an answer (`TimedOut`, or a row found in `sending` after a crash) can
  not be told apart from one that never left. We resend it (like any network error, with
  backoff) and count it in the row's `ambiguous` column: losing a digest is worse than a rare
  repeat, and duplicates are bounded by (and reported as) the ambiguous count. A `sent` row is
  never sent again.
- Several workers (PostgreSQL): rows are claimed `FOR UPDATE SKIP LOCKED` under a lease
  (`claimed_by`, `lease_until`). While it holds rows a worker renews their leases every third
  of the lease; a row it finds reaped (its lease ran out, e.g. after a long stall) is dropped
  at once, before another message goes out. Every worker also reaps rows whose lease ran out:
  a dead worker's `pending` rows become claimable and its `sending` rows count one ambiguous
  outcome, exactly as after a restart. A clean shutdown hands its pending rows back at once.
  The overall Telegram rate across workers is kept by an optional `SendGate`
  (bot/delivery/sharedrate.py books slots in the database); per-chat and per-group limits stay
  local, as a chat's rows go one at a time and a multi-message row stays with one worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InputPollOption, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.delivery.ratelimit import RateScheduler
from bot.edition.buttons import digest_keyboard
from bot.telegram.request import AiohttpRequest, ConnectionLost
from storage.chats import deactivate, migrate_chat
from storage.deliveries import (
    OPEN_STATES,
    Delivery,
    RowChange,
    apply_changes,
    claim_due,
    close_chat_rows,
    get_delivery,
    move_chat_rows,
    next_due_at,
    open_count,
    recover_interrupted,
    release_claims,
    renew_leases,
)
from storage.polls import add_poll

log = logging.getLogger(__name__)
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "not enough rights")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
FORGET_EVERY = 30.0  # seconds between the scheduler's clean-ups of idle chats
# Rows sent at once: as many as the delivery bot's connections (`build_delivery_bot`), far
# more than 30 messages/s need. At 200, rows beyond the pool waited for a connection holding
# their messages and requests: +9 MB at the peak of a 10,000-chat broadcast (bench/memory.py).
MAX_INFLIGHT = 64


def build_delivery_bot(
    token: str, *, base_url: str, pool_size: int = 64, read_timeout: float = 10.0
) -> Bot:
    """A plain `telegram.Bot` for broadcasting: its own connection pool, no rate limiter of
    PTB's (the engine paces sends itself), and a read timeout that bounds ambiguous waits."""
    request = AiohttpRequest(  # far less CPU per message than httpx: bot/telegram/request.py
        connection_pool_size=pool_size,
        read_timeout=read_timeout,
        write_timeout=read_timeout,
        connect_timeout=5.0,
        pool_timeout=30.0,
    )
    return Bot(token, base_url=base_url, request=request)


class SendGate(Protocol):
    """A cluster-wide limit every call passes right before it goes out."""

    async def acquire(self) -> float:
        """Wait until one more call may start; the slot granted (monotonic seconds)."""

    def missed(self, slot: float) -> bool:
        """Whether it is too late now to start a call at `slot` (take another one)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for network errors, 5xx and ambiguous timeouts, bounded by time, not count.

    A row is retried (base·2^(n-1) seconds, capped at `cap`, ±jitter) until `give_up_after`
    has passed since it fell due (it is queued when due), and at least `min_attempts` times: a
    row that waited behind another of its chat, or an admin's /resend of an old row, still gets
    a few tries. `max_attempts`, when set, is a hard limit on tries (tests and benchmarks).
    """

    max_attempts: int | None = None
    base: float = 2.0
    cap: float = 300.0
    jitter: float = 0.5
    give_up_after: dt.timedelta = dt.timedelta(hours=6)
    min_attempts: int = 6

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds before retry number `attempt` (1-based): base·2^(n-1), capped, ±jitter."""
        delay = min(self.cap, self.base * 2.0 ** min(attempt - 1, 64))
        return float(delay) * (1 - self.jitter + 2 * self.jitter * rng.random())

    def exhausted(self, attempts: int, waited: dt.timedelta) -> bool:
        """Whether to give up after `attempts` failed tries, `waited` after the row fell due."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        return attempts >= self.min_attempts and waited >= self.give_up_after


@dataclass(slots=True)
class EngineStats:
    """What this engine did since it started (the table holds the durable truth)."""

    messages: int = 0
    rows_sent: int = 0
    retry_after: int = 0
    global_pauses: int = 0
    retries: int = 0
    ambiguous: int = 0
    failed: int = 0
    skipped: int = 0
    migrated: int = 0
    recovered_ambiguous: int = 0
    leases_lost: int = 0
    loop_errors: int = 0


@dataclass(slots=True)
class _Job:
    """A claimed row held in memory while it is being sent."""

    id: int
    chat_id: int
    digest_date: dt.date
    messages: list[str]
    message_ids: list[int | None]
    attempts: int
    ambiguous: int
    created_at: dt.datetime  # when the row was queued, i.e. fell due
    kind: str = "digest"  # "poll": its one message is a poll (bot/edition/compose.py)

    @classmethod
    def of(cls, row: Delivery) -> _Job:
        """Copy what sending needs out of an ORM row."""
        return cls(
            row.id,
            row.chat_id,
            row.digest_date,
            list(row.messages),
            list(row.message_ids),
            row.attempts,
            row.ambiguous,
            row.created_at,
            kind=row.kind,
        )


@dataclass(slots=True)
class _Journal:
    """Group commit: changes queued by many senders are written in one transaction."""

    sessions: async_sessionmaker[AsyncSession]
    queue: asyncio.Queue[tuple[RowChange, asyncio.Future[None]]] = field(
        default_factory=asyncio.Queue
    )
    # Held around each commit: lease renewal takes it too, so the engine's own two writers
    # never lock the same rows in opposite orders (PostgreSQL would abort one: a deadlock).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def write(self, change: RowChange) -> None:
        """Queue a change and wait until it is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.queue.put((change, future))
        await future

    async def run(self) -> None:
        """Commit whatever has queued up, batch after batch, forever."""
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                async with self.lock, self.sessions.begin() as session:
                    await apply_changes(session, changes=[change for change, _ in batch])
            except Exception as exc:  # every waiter must hear about it, whatever it was
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)


class DeliveryEngine:
    """One worker loop: claim due rows, send each (rows of different chats concurrently)."""

    def __init__(
        self,
        *,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        scheduler: RateScheduler,
        clock: Callable[[], dt.datetime],
        monotonic: Callable[[], float] = time.monotonic,
        policy: RetryPolicy | None = None,
        max_inflight: int = MAX_INFLIGHT,
        lease: dt.timedelta = dt.timedelta(minutes=10),
        worker: str | None = None,
        rng: random.Random | None = None,
        gate: SendGate | None = None,
        error_pause: float = 1.0,
        error_pause_cap: float = 30.0,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.scheduler = scheduler
        self.clock = clock
        self.monotonic = monotonic
        self.policy = policy or RetryPolicy()
        self.max_inflight = max_inflight
        self.lease = lease
        self.worker = worker or f"worker-{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()
        self.gate = gate
        self.error_pause = error_pause
        self.error_pause_cap = error_pause_cap
        self.stats = EngineStats()
        self._journal = _Journal(sessions)
        self._active: dict[int, asyncio.Task[None]] = {}
        self._finishing: set[int] = set()  # rows whose last write released the claim
        self._wake = asyncio.Event()
        self._forget_at = 0.0  # when the scheduler next drops chats it no longer constrains

    def wake(self) -> None:
        """Look for due rows now (the dispatcher queued some)."""
        self._wake.set()

    async def recover(self, *, only_expired: bool = False) -> tuple[int, int]:
        """Apply the ambiguous policy to rows a crash left `sending`, and release old claims."""
        async with self.sessions.begin() as session:
            ambiguous, released = await recover_interrupted(
                session, now=self.clock(), only_expired=only_expired
            )
        self.stats.recovered_ambiguous += ambiguous
        if ambiguous or released:
            log.warning("recovered deliveries: ambiguous=%d released=%d", ambiguous, released)
        return ambiguous, released

    async def drain(self) -> EngineStats:
        """Send until no row is pending or sending (retries included), then return."""
        await self.run(until_idle=True)
        return self.stats

    async def run(self, *, stop: asyncio.Event | None = None, until_idle: bool = False) -> None:
        """The worker loop; ends when `stop` is set, or when idle if `until_idle`."""
        journal = asyncio.create_task(self._journal.run())
        leases = asyncio.create_task(self._keep_leases())
        errors = 0  # failed rounds in a row
        try:
            while stop is None or not stop.is_set():
                try:
                    # Cleared before the claim, not in `_pause`: a wake-up (a sender done, rows
                    # queued) arriving while this round reads the table is not lost.
                    self._wake.clear()
                    claimed = await self._claim()
                    if until_idle and not claimed and not self._active and await self._idle():
                        return
                    await self._pause(claimed)
                except Exception as error:  # e.g. "database is locked": delivery must go on
                    errors += 1
                    self.stats.loop_errors += 1
                    await self._after_error(errors, error, stop)
                else:
                    errors = 0
        finally:
            await self._shutdown(journal, leases)

    async def _after_error(self, errors: int, error: Exception, stop: asyncio.Event | None) -> None:
        """Log a failed round (the traceback once per streak) and wait before the next one."""
        delay = min(self.error_pause_cap, self.error_pause * 2.0 ** min(errors - 1, 32))
        if errors == 1:
            log.error("delivery round failed; retrying in %.0fs", delay, exc_info=error)
        else:
            log.warning(
                "delivery round failed again (%d in a row): %s: %s; retrying in %.0fs",
                errors,
                type(error).__name__,
                error,
                delay,
            )
        if stop is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def _shutdown(self, journal: asyncio.Task[None], leases: asyncio.Task[None]) -> None:
        """Cancel senders and hand their pending rows back; `sending` rows stay claimed until
        their lease ends (or the next start), as their outcome is unknown."""
        senders = list(self._active.values())
        for task in [*senders, leases]:
            task.cancel()
        await asyncio.gather(*senders, leases, return_exceptions=True)
        journal.cancel()
        await asyncio.gather(journal, return_exceptions=True)
        self._active.clear()
        try:
            async with self.sessions.begin() as session:
                await release_claims(session, worker=self.worker, now=self.clock())
        except Exception:  # shutting down with the database gone: the leases expire instead
            log.warning("could not release claims of %s; they expire with the lease", self.worker)

    async def _keep_leases(self) -> None:
        """Every third of the lease: renew ours, drop rows we lost, reap others' expired rows."""
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
                await self.recover(only_expired=True)
            except Exception:  # a database hiccup must not stop the engine; retry next round
                log.exception("lease upkeep failed")

    async def renew(self) -> int:
        """Extend the leases of rows being sent; cancel senders whose row was reaped."""
        ids = list(self._active)
        async with self._journal.lock, self.sessions.begin() as session:
            held = await renew_leases(
                session, worker=self.worker, ids=ids, now=self.clock(), lease=self.lease
            )
        lost = 0
        for row_id in set(ids) - held:
            task = self._active.get(row_id)
            # Rows a sender just finished (sent, failed, released) are no longer claimed either.
            if task is not None and not task.done() and row_id not in self._finishing:
                lost += 1
                task.cancel()
        if lost:
            self.stats.leases_lost += lost
            log.warning("%s lost %d leases (stalled past the lease?): dropped", self.worker, lost)
        return lost

    async def _idle(self) -> bool:
        """Whether nothing is open any more (the table has the last word)."""
        async with self.sessions() as session:
            return await open_count(session) == 0

    async def _pause(self, claimed: int) -> None:
        """Wait for a sender to finish, a wake-up, or the next row to fall due."""
        if claimed and self._claim_room() > 0:
            return
        timeout = 1.0
        if not claimed and self._claim_room() > 0:  # nothing was due: sleep until something is
            async with self.sessions() as session:
                due = await next_due_at(session)
            if due is not None:
                timeout = min(timeout, max(0.005, (due - self.clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    def _claim_room(self) -> int:
        """How many rows to claim now: none while fewer than a quarter of the slots are free
        (unless idle), so a busy engine makes one claim per batch, not one per message."""
        room = self.max_inflight - len(self._active)
        if self._active and room < max(1, self.max_inflight // 4):
            return 0
        return max(0, room)

    async def _claim(self) -> int:
        """Claim due rows up to the in-flight limit and start a sender for each."""
        if self.monotonic() >= self._forget_at:  # else it keeps a state for every chat ever sent
            self.scheduler.forget_idle()
            self._forget_at = self.monotonic() + FORGET_EVERY
        room = self._claim_room()
        if room <= 0:
            return 0
        async with self.sessions.begin() as session:
            rows = await claim_due(
                session, worker=self.worker, now=self.clock(), lease=self.lease, limit=room
            )
        for row in rows:
            job = _Job.of(row)
            self._active[job.id] = asyncio.create_task(self._run_job(job))
        return len(rows)

    async def _run_job(self, job: _Job) -> None:
        """Send one row, then make room and wake the loop."""
        try:
            await self._send_row(job)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not kill the loop; the row stays claimed until its lease
            log.exception("delivery %d to chat %d crashed", job.id, job.chat_id)
        finally:
            self._active.pop(job.id, None)
            self._finishing.discard(job.id)
            self._wake.set()

    async def _wait_turn(self, chat_id: int) -> None:
        """Sleep until the rate scheduler gives this chat a slot."""
        # Polling the scheduler is the point: its answer changes as other senders book slots.
        while (delay := self.scheduler.delay(chat_id)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)
        moment = self.scheduler.reserve(chat_id)
        await asyncio.sleep(max(0.0, moment - self.monotonic()))

    async def _send_row(self, job: _Job) -> None:
        """Send the row's unsent messages in order, handling each outcome."""
        while len(job.message_ids) < len(job.messages):
            await self._wait_turn(job.chat_id)
            await self._take_slot(job)
            text = job.messages[len(job.message_ids)]
            try:
                message = await self._send_one(job, text)
            except TelegramError as error:
                if not await self._handle_error(job, error):
                    return
                continue
            if message.poll is not None:
                await self._remember_poll(job, message.message_id, message.poll.id, text)
            await self._record_sent(job, message.message_id)

    async def _send_one(self, job: _Job, text: str) -> Message:
        """One message of a row: HTML text, or for a poll row the journal-club poll."""
        if job.kind == "poll":
            poll = json.loads(text)
            return await self.bot.send_poll(
                job.chat_id,
                poll["question"],
                [InputPollOption(option, text_parse_mode=None) for option in poll["options"]],
                question_parse_mode=None,  # titles are plain text, not HTML
            )
        return await self.bot.send_message(
            job.chat_id,
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=_NO_PREVIEW,
            reply_markup=digest_keyboard(text),  # ⭐ under each paper
        )

    async def _remember_poll(self, job: _Job, message_id: int, poll_id: str, text: str) -> None:
        """Record a sent poll's papers so `/poll close` can name the winner; a failure here
        is logged, never a reason to send the poll again."""
        try:
            async with self.sessions.begin() as session:
                await add_poll(
                    session,
                    chat_id=job.chat_id,
                    message_id=message_id,
                    poll_id=poll_id,
                    day=job.digest_date,
                    arxiv_ids=list(json.loads(text)["arxiv_ids"]),
                    now=self.clock(),
                )
        except Exception:
            log.exception("could not record poll %d of chat %d", message_id, job.chat_id)

    async def _take_slot(self, job: _Job) -> None:
        """Wait for every limit to grant the call its slot, then commit `sending`: the row
        says "may have left" only when the call is about to go out."""
        while (hold := self.scheduler.window_delay()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(hold)
        self.scheduler.book_call()  # no await since window_delay: the place is ours
        try:
            if self.gate is None:
                await self._write(job, state="sending")
            else:
                slot = await self.gate.acquire()
                await self._write(job, state="sending")
                # A commit slower than the gate's tolerance lost the slot: take the next one
                # (rare; the row is `sending` meanwhile, for one slot's wait).
                while self.gate.missed(slot):
                    slot = await self.gate.acquire()
        except BaseException:
            self.scheduler.cancel_call()
            raise
        self.scheduler.note_call(booked=True)

    async def _write(self, job: _Job, **values: Any) -> None:
        """Commit columns of the job's row (through the group commit)."""
        values["updated_at"] = self.clock()
        if "claimed_by" in values:  # the row leaves our hands: renewal will not find it
            self._finishing.add(job.id)
        await self._journal.write(RowChange(job.id, values))

    async def _record_sent(self, job: _Job, message_id: int) -> None:
        """Record one delivered message; the last one makes the row `sent`."""
        job.message_ids.append(message_id)
        self.stats.messages += 1
        if len(job.message_ids) < len(job.messages):
            await self._write(job, state="pending", message_ids=list(job.message_ids))
            return
        self.stats.rows_sent += 1
        await self._write(
            job,
            state="sent",
            message_ids=list(job.message_ids),
            sent_at=self.clock(),
            claimed_by=None,
            lease_until=None,
        )

    async def _handle_error(self, job: _Job, error: TelegramError) -> bool:
        """Act on a failed call; True to try the same message again now (in this task)."""
        if isinstance(error, RetryAfter):
            return await self._on_retry_after(job, error)
        if isinstance(error, ChatMigrated):
            return await self._on_migrated(job, error.new_chat_id)
        if isinstance(error, Forbidden) or (
            isinstance(error, BadRequest) and any(m in error.message.lower() for m in _GONE)
        ):
            await self._on_gone(job, error)
            return False
        if isinstance(error, TimedOut | ConnectionLost):  # the message may have arrived
            job.ambiguous += 1
            self.stats.ambiguous += 1
            await self._retry_later(job, f"ambiguous: {error.message}")
            return False
        # BadRequest subclasses NetworkError in PTB: a malformed request is no network hiccup.
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            await self._retry_later(job, f"network: {error.message}")
            return False
        log.error(
            "delivery %d failed: chat=%d date=%s error=%s: %s",
            job.id,
            job.chat_id,
            job.digest_date,
            type(error).__name__,
            error.message,
        )
        await self._fail(job, f"{type(error).__name__}: {error.message}")
        return False

    async def _on_retry_after(self, job: _Job, error: RetryAfter) -> bool:
        """Pause the chat (or everything) as the policy says, then retry the message."""
        with warnings.catch_warnings():  # PTB 22.2+ warns that the int form is deprecated
            warnings.simplefilter("ignore")
            wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        self.stats.retry_after += 1
        if self.scheduler.retry_after(job.chat_id, seconds):
            self.stats.global_pauses += 1
            log.warning("flood control hit by several chats: pausing all sends %.0fs", seconds)
        await self._write(job, state="pending", last_error=f"retry after {seconds:g}s")
        return True

    async def _on_migrated(self, job: _Job, new_id: int) -> bool:
        """Move the subscription and open rows to the supergroup, then resend there; unless
        the supergroup already has this row's day, kind and seq (queued after the migrate
        message): then the row was closed as superseded and nothing is resent."""
        now = self.clock()
        async with self.sessions.begin() as session:
            await migrate_chat(session, old_id=job.chat_id, new_id=new_id, now=now)
            await move_chat_rows(session, old_id=job.chat_id, new_id=new_id, now=now)
            row = await get_delivery(session, delivery_id=job.id)
            moved = row is not None and row.chat_id == new_id and row.state in OPEN_STATES
        self.stats.migrated += 1
        if not moved:
            self._finishing.add(job.id)  # the row left our hands: renewal will not find it
            self.stats.skipped += 1
            log.info("chat %d migrated to %d; row %d superseded there", job.chat_id, new_id, job.id)
            return False
        log.info("chat %d migrated to %d; resending there", job.chat_id, new_id)
        job.chat_id = new_id
        return True

    async def _on_gone(self, job: _Job, error: TelegramError) -> None:
        """The bot may no longer write here: deactivate the chat and skip its open rows."""
        reason = f"{type(error).__name__}: {error.message}"
        now = self.clock()
        self._finishing.add(job.id)
        async with self.sessions.begin() as session:
            await deactivate(session, chat_id=job.chat_id, reason=reason, now=now)
            await close_chat_rows(
                session, chat_id=job.chat_id, state="skipped", reason=reason, now=now
            )
        log.info("chat %d unreachable (%s): deactivated", job.chat_id, reason)
        self.stats.skipped += 1

    async def _retry_later(self, job: _Job, reason: str) -> None:
        """Back off and release the row, or give up once the policy's time (or count) is up."""
        job.attempts += 1
        waited = self.clock() - job.created_at
        if self.policy.exhausted(job.attempts, waited):
            minutes = max(0, round(waited.total_seconds() / 60))
            await self._fail(job, f"{reason} (after {job.attempts} attempts in {minutes} min)")
            return
        self.stats.retries += 1
        delay = self.policy.backoff(job.attempts, self.rng)
        await self._write(
            job,
            state="pending",
            attempts=job.attempts,
            ambiguous=job.ambiguous,
            last_error=reason[:500],
            next_attempt_at=self.clock() + dt.timedelta(seconds=delay),
            claimed_by=None,
            lease_until=None,
        )

    async def _fail(self, job: _Job, reason: str) -> None:
        """Give the row up as `failed` with the reason."""
        self.stats.failed += 1
        log.warning("delivery %d to chat %d failed: %s", job.id, job.chat_id, reason)
        await self._write(
            job,
            state="failed",
            attempts=job.attempts,
            ambiguous=job.ambiguous,
            last_error=reason[:500],
            claimed_by=None,
            lease_until=None,
        )
