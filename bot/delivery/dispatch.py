"""What is due: readiness of a day's digest, and delivery rows for the chats it is due for.

The database decides what is due; the clock (`bot.clock`) only asks every minute. Everything
that decides takes `now` explicitly, so tests drive it with a controllable clock.

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

Cadence: a "weekly" chat gets no daily rows; a "weekly" or "both" chat gets, on Monday at its
delivery time in its zone, a "weekly" row of last week's top papers (storage/tops.py), dated
that week's Monday: one per chat and week by the outbox's unique key, caught up late within
`catchup_days`, never for a week that ended before the chat subscribed. A group with
`journal_poll` gets a "poll" row right after each new daily digest row: the poll of its papers.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.delivery.foryou import FeatureSource, ForYouPass
from bot.digest.models import Paper
from bot.edition.compose import (
    PlannedRow,
    RenderCache,
    RowKind,
    plan_poll_row,
    plan_row,
    plan_weekly_row,
)
from storage.chats import Chat, subscribed_chat_batches
from storage.deliveries import (
    INSERT_SLICE,
    DigestReadiness,
    RowKey,
    add_deliveries,
    known_ids,
    mark_ready,
    new_key,
    ready_days,
    row_keys,
    unready_days,
    weekly_chats,
)
from storage.papers import day_papers, digest_for_date
from storage.tops import top_ids

log = logging.getLogger(__name__)
CHAT_BATCH = 500  # chats loaded and planned at a time: a pass never holds every Chat row
WEEK_POOL = 200  # a week's best papers a weekly digest's filters choose from
GROUP_TYPES = frozenset({"group", "supergroup"})


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

    @classmethod
    def from_settings(cls, settings: Settings) -> SchedulePolicy:
        """The defaults, with `DIGEST_SETTLE` and `DIGEST_POLL_INTERVAL` (minutes) applied."""
        poll = dt.timedelta(minutes=settings.digest_poll_interval)
        return cls(
            settle=dt.timedelta(minutes=settings.digest_settle),
            poll_interval=poll,
            dispatch_interval=min(dt.timedelta(minutes=1), poll),  # never slower than the poll
        )


# readiness


def settled(row: DigestReadiness, now: dt.datetime, policy: SchedulePolicy) -> bool:
    """Whether the day's digest may go out now: unchanged for `settle`, waited long enough,
    or declared complete by hand."""
    if row.by_hand:
        return True
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


@dataclass(frozen=True, slots=True)
class PlannedWeek:
    """A weekly digest a chat should get now: the ISO week it covers."""

    start: dt.date  # that week's Monday (the row's `digest_date`)
    label: str  # `2025-W05`
    late: bool


def plan_weekly(
    schedule: ChatSchedule, now: dt.datetime, policy: SchedulePolicy
) -> PlannedWeek | None:
    """Last week's digest when this Monday's delivery time (in the chat's zone) has come, and
    not more than `catchup_days` ago; never for a week that ended before the chat subscribed.
    A weekly digest comes on Mondays whatever the chat's delivery days."""
    local = now.astimezone(schedule.zone)
    monday = local.date() - dt.timedelta(days=local.weekday())
    due = dt.datetime.combine(monday, schedule.at, schedule.zone)
    if due > now:  # before this Monday's time: last Monday's digest may still be caught up
        monday -= dt.timedelta(days=7)
        due = dt.datetime.combine(monday, schedule.at, schedule.zone)
    ended = dt.datetime.combine(monday, dt.time(0), schedule.zone)
    if now - due > dt.timedelta(days=policy.catchup_days) or ended < schedule.since:
        return None
    start = monday - dt.timedelta(days=7)
    year, week, _ = start.isocalendar()
    return PlannedWeek(start, f"{year:04d}-W{week:02d}", late=now - due > policy.late_grace)


# dispatch (session only, explicit now)


@dataclass(slots=True)
class DispatchReport:
    """What one dispatch pass queued."""

    ready: list[dt.date] = field(default_factory=list)
    digests: int = 0
    updates: int = 0
    late: int = 0
    empty: int = 0
    weekly: int = 0
    polls: int = 0

    @property
    def queued(self) -> int:
        """Rows that will send messages."""
        return self.digests + self.updates + self.weekly + self.polls


@dataclass(slots=True)
class _Day:
    """A ready day's deliverable digest, loaded once per pass."""

    readiness: DigestReadiness
    digest_id: int
    papers: list[Paper]


class _Dispatcher:
    """One pass over the subscribed chats (state lives for one pass only)."""

    def __init__(
        self,
        session: AsyncSession,
        now: dt.datetime,
        policy: SchedulePolicy,
        settings: Settings,
        chat_batch: int = CHAT_BATCH,
        features: FeatureSource | None = None,
    ) -> None:
        self.session, self.now, self.policy, self.settings = session, now, policy, settings
        self.chat_batch = chat_batch
        self.for_you = ForYouPass(session, features)
        self.report = DispatchReport()
        self.cache = RenderCache()
        self.planned: list[PlannedRow] = []
        self.weeks: dict[dt.date, list[Paper]] = {}  # a week's papers, loaded once per pass

    async def run(self) -> DispatchReport:
        """Queue every digest and update that is due now."""
        self.report.ready = await settle_readiness(self.session, now=self.now, policy=self.policy)
        since = (self.now - dt.timedelta(days=self.policy.catchup_days + 2)).date()
        since -= dt.timedelta(days=self.policy.max_age_days)
        days = await self._load_days(since)  # none: weekly digests may still be due
        rows: dict[int, dict[dt.date, list[RowKey]]] = defaultdict(lambda: defaultdict(list))
        for key in await row_keys(self.session, since=since):
            rows[key.chat_id][key.digest_date].append(key)
        # Nothing in the loop changes the loaded chats: without autoflush, each insert does not
        # scan thousands of them for changes (quadratic on a big broadcast).
        with self.session.no_autoflush:
            async for chats in subscribed_chat_batches(self.session, size=self.chat_batch):
                await self._weekly(chats)
                plans = [
                    (chat, self._plan(chat, days, rows.get(chat.chat_id, {}))) for chat in chats
                ]
                # "For you" scores the batch's chats at once: only those with a digest due now
                # (a pass every minute would otherwise score a whole batch for one due chat).
                self.for_you.batch([chat for chat, (digests, _) in plans if digests])
                for chat, (digests, updates) in plans:
                    for due in digests:
                        await self._queue(chat, days[due.date], kind="digest", seq=0, late=due.late)
                    for day, seq in updates:
                        await self._queue(chat, days[day], kind="update", seq=seq, late=False)
        # One insert at the end: on SQLite the write lock is held for it, not for the pass.
        added = await add_deliveries(
            self.session,
            rows=[plan.row for plan in self.planned],
            slice_size=min(self.chat_batch, INSERT_SLICE),
        )
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
        elif plan.row["kind"] == "weekly":
            self.report.weekly += 1
            self.report.late += plan.row["late"]
        elif plan.row["kind"] == "poll":
            self.report.polls += 1
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
                papers = await day_papers(self.session, date=row.date)  # every source merged
                found[row.date] = _Day(row, info.id, papers)
        return found

    def _plan(
        self, chat: Chat, days: dict[dt.date, _Day], rows: dict[dt.date, list[RowKey]]
    ) -> tuple[list[Planned], list[tuple[dt.date, int]]]:
        """The chat's due digests, then its updates as (day, seq) (none for a weekly-only
        chat)."""
        if chat.cadence == "weekly":
            return [], []
        schedule = ChatSchedule.of(chat, default_zone=self.settings.default_timezone)
        delivered = {day for day, keys in rows.items() if any(k.kind == "digest" for k in keys)}
        ready = [(day, item.readiness.ready_at) for day, item in days.items()]
        candidates = [(day, at) for day, at in ready if at is not None]
        digests = plan_digests(schedule, candidates, delivered, self.now, self.policy)
        updates = []
        for day in sorted(delivered & days.keys()):
            keys = rows[day]
            made = max(key.created_at for key in keys)
            if self._recent(day, schedule) and needs_update(
                days[day].readiness, made, self.now, self.policy, schedule
            ):
                updates.append((day, max(key.seq for key in keys) + 1))
        return list(digests), updates

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
            for_you=await self.for_you.picker(chat, date, day.papers) if kind == "digest" else None,
        )
        self.planned.append(plan)
        if kind == "digest" and chat.journal_poll and chat.type in GROUP_TYPES and plan.chosen:
            chosen = {paper.arxiv_id: paper for paper in day.papers}
            poll = plan_poll_row(
                chat=chat,
                date=date,
                chosen=[chosen[arxiv_id] for arxiv_id in plan.row["arxiv_ids"]],
                now=self.now,
                default_language=self.settings.default_language,
            )
            if poll is not None:  # queued after the digest, so it goes out right after it
                self.planned.append(poll)

    async def _weekly(self, chats: Sequence[Chat]) -> None:
        """Queue last week's digest for the chats of a batch that take one and are due."""
        due: dict[dt.date, list[tuple[Chat, PlannedWeek]]] = defaultdict(list)
        for chat in chats:
            if chat.cadence in ("weekly", "both"):
                schedule = ChatSchedule.of(chat, default_zone=self.settings.default_timezone)
                week = plan_weekly(schedule, self.now, self.policy)
                if week is not None:
                    due[week.start].append((chat, week))
        for start, planned in due.items():
            ids = [chat.chat_id for chat, _ in planned]
            done = await weekly_chats(self.session, chat_ids=ids, week_start=start)
            for chat, week in planned:
                if chat.chat_id not in done:
                    await self._queue_week(chat, week)

    async def _queue_week(self, chat: Chat, week: PlannedWeek) -> None:
        """Select and render one chat's weekly row."""
        if week.start not in self.weeks:
            self.weeks[week.start] = await self._week_papers(week.start)
        plan = plan_weekly_row(
            chat=chat,
            week=week.label,
            start=week.start,
            papers=self.weeks[week.start],
            now=self.now,
            default_language=self.settings.default_language,
            late=week.late,
        )
        self.planned.append(plan)

    async def _week_papers(self, start: dt.date) -> list[Paper]:
        """The week's best papers by latest votes (storage.tops), as the days stored them."""
        end = start + dt.timedelta(days=6)
        ranked = await top_ids(self.session, start=start, end=end, limit=WEEK_POOL)
        found: dict[str, Paper] = {}
        for offset in range(7):
            for paper in await day_papers(self.session, date=start + dt.timedelta(days=offset)):
                found.setdefault(paper.arxiv_id, paper)
        return [
            found[arxiv_id].model_copy(update={"votes": votes})
            for arxiv_id, votes in ranked
            if arxiv_id in found
        ]


async def dispatch(
    session: AsyncSession,
    *,
    now: dt.datetime,
    settings: Settings,
    policy: SchedulePolicy | None = None,
    chat_batch: int = CHAT_BATCH,
    features: FeatureSource | None = None,
) -> DispatchReport:
    """Mark settled days ready and queue every digest and update due at `now` (no commit);
    chats are planned `chat_batch` at a time. `features` gives the archive's feature cache for
    "for you" (the runtime's, kept between passes; default: a new one for this pass)."""
    chosen = policy or SchedulePolicy.from_settings(settings)
    return await _Dispatcher(session, now, chosen, settings, chat_batch, features).run()
