"""The delivery outbox, source polls and digest readiness (keyword-only, never commits).

A `deliveries` row is one message batch (a digest, or a later "update") for one chat and day:
`pending → sending → sent | failed | skipped`. `message_ids[i]` is set once message i went out,
so a digest interrupted mid-way resumes at its first unsent message. `sending` means a call may
be in flight: after a crash such a row is ambiguous (see bot/delivery/engine.py for the policy).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from storage.models import Base, BigId, UTCDateTime

State = Literal["pending", "sending", "sent", "failed", "skipped"]
# "weekly": a chat's Monday digest of last week, dated that week's Monday; "poll": the
# journal-club poll after a group's daily digest (its one message is the poll as JSON).
Kind = Literal["digest", "update", "weekly", "poll"]
STATES: tuple[State, ...] = ("pending", "sending", "sent", "failed", "skipped")
OPEN_STATES = ("pending", "sending")


class Delivery(Base):
    """One outbox row: the rendered messages for a chat and day, and how far they got."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("chat_id", "digest_date", "kind", "seq", name="uq_deliveries_key"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        # Claiming walks pending rows in order and probes a chat's open rows (migration 0005).
        Index(
            "ix_deliveries_claim_order",
            "next_attempt_at",
            "id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index(
            "ix_deliveries_chat_open",
            "chat_id",
            "id",
            postgresql_where=text("state IN ('pending', 'sending')"),
            sqlite_where=text("state IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    digest_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ambiguous: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    messages: Mapped[list[str]] = mapped_column(JSON)
    message_ids: Mapped[list[int | None]] = mapped_column(JSON)
    arxiv_ids: Mapped[list[str]] = mapped_column(JSON)
    known_ids: Mapped[list[str]] = mapped_column(JSON)
    digest_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SourcePoll(Base):
    """The last poll of one digest source (URL template, folder or API)."""

    __tablename__ = "source_polls"

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    etag: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_modified: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class DigestReadiness(Base):
    """When a day's digest was first seen, last changed, and judged complete."""

    __tablename__ = "digest_readiness"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    paper_count: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Declared complete by hand (`ingest --ready`): settled now, until the content changes.
    by_hand: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


_DELIVERIES = cast(Table, Delivery.__table__)


@dataclass(frozen=True, slots=True)
class RowChange:
    """Columns to set on one delivery row (the engine batches many into one transaction)."""

    id: int
    values: dict[str, Any]


def _insert(session: AsyncSession, table: Table) -> Any:
    """The dialect's INSERT (for ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# Built once: the values go in as parameters of this one statement (building `.values(row)`
# for every row was a third of a dispatch pass).
_ADD_DELIVERY = {
    name: insert(_DELIVERIES).on_conflict_do_nothing().returning(_DELIVERIES.c.id)
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
_ADD_DELIVERIES = {
    name: insert(_DELIVERIES)
    .on_conflict_do_nothing()
    .returning(
        _DELIVERIES.c.chat_id, _DELIVERIES.c.digest_date, _DELIVERIES.c.kind, _DELIVERIES.c.seq
    )
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
NewKey = tuple[int, dt.date, str, int]  # (chat_id, digest_date, kind, seq): a row's identity
# Rows per INSERT of `add_deliveries`: measured on 10,000 rows, 500 a statement grew the
# process by 36 MB (SQLite and the driver keep each statement's bound JSON texts), 50 by 7 MB,
# and was no faster.
INSERT_SLICE = 50


def new_delivery(
    *,
    chat_id: int,
    digest_date: dt.date,
    kind: Kind,
    messages: Sequence[str],
    arxiv_ids: Sequence[str],
    known_ids: Sequence[str],
    now: dt.datetime,
    seq: int = 0,
    digest_id: int | None = None,
    late: bool = False,
    state: State = "pending",
) -> dict[str, Any]:
    """The column values of a new outbox row (see `add_delivery`)."""
    return {
        "chat_id": chat_id,
        "digest_date": digest_date,
        "kind": kind,
        "seq": seq,
        "state": state,
        "attempts": 0,
        "ambiguous": 0,
        "next_attempt_at": now,
        "messages": list(messages),
        "message_ids": [],
        "arxiv_ids": list(arxiv_ids),
        "known_ids": list(known_ids),
        "digest_id": digest_id,
        "late": late,
        "created_at": now,
        "updated_at": now,
    }


def new_key(values: dict[str, Any]) -> NewKey:
    """The identity of a row made by `new_delivery`."""
    return values["chat_id"], values["digest_date"], values["kind"], values["seq"]


async def add_delivery(session: AsyncSession, *, row: dict[str, Any]) -> int | None:
    """Queue a `new_delivery` row; its id, or None when the row (chat, day, kind, seq)
    already exists.

    `state="skipped"` records a decision to send nothing (an empty selection), so the
    dispatcher does not decide again and later updates know which papers were seen.
    """
    statement = _ADD_DELIVERY[session.get_bind().dialect.name]
    result = await session.execute(statement, row)
    return cast("int | None", result.scalar_one_or_none())


async def add_deliveries(
    session: AsyncSession, *, rows: Sequence[dict[str, Any]], slice_size: int = INSERT_SLICE
) -> set[NewKey]:
    """Queue many `new_delivery` rows in a few statements; the keys of those that were new.

    A dispatch pass over thousands of chats writes here once, at its end: on SQLite the write
    lock is then held for this insert, not for the whole pass (chats subscribing meanwhile
    would wait on it).
    """
    statement = _ADD_DELIVERIES[session.get_bind().dialect.name]
    added: set[NewKey] = set()
    # In slices: the driver's copy of every row's parameters (its messages as JSON text, a
    # few KB a row) exists for one slice at a time, not for a whole 10,000-chat pass.
    for start in range(0, len(rows), slice_size):
        result = await session.execute(statement, list(rows[start : start + slice_size]))
        added.update((row[0], _as_date(row[1]), row[2], row[3]) for row in result)
    return added


def _as_date(value: Any) -> dt.date:
    """A date column as returned through RETURNING (already a date, or ISO text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


async def get_delivery(session: AsyncSession, *, delivery_id: int) -> Delivery | None:
    """One row by id."""
    return await session.get(Delivery, delivery_id)


async def chat_deliveries(
    session: AsyncSession, *, chat_id: int, digest_date: dt.date | None = None
) -> list[Delivery]:
    """A chat's rows (for one day when given), oldest first."""
    query = select(Delivery).where(Delivery.chat_id == chat_id)
    if digest_date is not None:
        query = query.where(Delivery.digest_date == digest_date)
    query = query.order_by(Delivery.digest_date, Delivery.kind, Delivery.seq)
    return list((await session.scalars(query)).all())


async def day_deliveries(session: AsyncSession, *, digest_date: dt.date) -> list[Delivery]:
    """Every row for one day."""
    query = select(Delivery).where(Delivery.digest_date == digest_date).order_by(Delivery.id)
    return list((await session.scalars(query)).all())


async def delivered_chats(session: AsyncSession, *, digest_date: dt.date) -> set[int]:
    """Chats that already have a digest row for the day (whatever its state)."""
    query = select(Delivery.chat_id).where(
        Delivery.digest_date == digest_date, Delivery.kind == "digest"
    )
    return set((await session.scalars(query)).all())


async def claim_due(
    session: AsyncSession,
    *,
    worker: str,
    now: dt.datetime,
    lease: dt.timedelta,
    limit: int,
) -> list[Delivery]:
    """Claim up to `limit` pending rows that are due and unclaimed (or whose lease ran out).

    A row waits while an older row of its chat is still open, so a chat's messages keep order.
    On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`: concurrent claimers skip each
    other's rows instead of waiting, and a row committed as claimed meanwhile fails the re-check
    of the WHERE clause, so N workers never claim the same row. Each claimed row records
    `claimed_by = worker` and `lease_until = now + lease`; a worker renews its leases while it
    holds rows (`renew_leases`), and a dead worker's rows are claimable once the lease is over.
    SQLite ignores FOR UPDATE (a single worker, whose writes SQLite serialises anyway).
    """
    earlier = aliased(Delivery)
    older_open = (
        select(earlier.id)
        .where(earlier.chat_id == Delivery.chat_id, earlier.id < Delivery.id)
        .where(earlier.state.in_(OPEN_STATES))
    )
    due = (
        select(Delivery.id)
        .where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
        .where(or_(Delivery.claimed_by.is_(None), Delivery.lease_until < now))
        .where(~older_open.exists())
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # One UPDATE … RETURNING: loading the rows and flushing each claim cost ~60× more.
    claim = (
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(claimed_by=worker, lease_until=now + lease)
        .returning(Delivery)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.scalars(claim)).all())
    rows.sort(key=lambda row: (row.next_attempt_at, row.id))
    return rows


async def next_due_at(session: AsyncSession) -> dt.datetime | None:
    """When the earliest pending row may be claimed (None when nothing is pending): a row held
    under another worker's lease falls due when the lease ends, not at its next attempt."""
    held = (Delivery.claimed_by.isnot(None)) & (Delivery.lease_until > Delivery.next_attempt_at)
    due = case((held, Delivery.lease_until), else_=Delivery.next_attempt_at)
    query = select(func.min(due)).where(Delivery.state == "pending")
    value = (await session.execute(query)).scalar_one_or_none()
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # SQLite aggregates skip the column's type
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value if isinstance(value, dt.datetime) else None


async def open_count(session: AsyncSession) -> int:
    """Rows still pending or sending."""
    query = select(func.count()).select_from(Delivery).where(Delivery.state.in_(OPEN_STATES))
    return int((await session.execute(query)).scalar_one())


async def recover_interrupted(
    session: AsyncSession, *, now: dt.datetime, only_expired: bool = False
) -> tuple[int, int]:
    """After a crash: `sending` rows become pending with one more ambiguous outcome, and claims
    are released. Returns (ambiguous rows, released rows). With `only_expired`, only rows whose
    lease ran out are touched (other workers may be alive)."""
    lease_over = or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)
    sending = update(Delivery).where(Delivery.state == "sending")
    released = update(Delivery).where(Delivery.state == "pending", Delivery.claimed_by.isnot(None))
    if only_expired:
        # Skip rows another transaction holds: a reaper never waits, so it never deadlocks.
        stale = select(Delivery.id).where(lease_over).with_for_update(skip_locked=True)
        sending = sending.where(Delivery.id.in_(stale.where(Delivery.state == "sending")))
        released = released.where(Delivery.id.in_(stale.where(Delivery.state == "pending")))
    ambiguous = await session.execute(
        sending.values(
            state="pending",
            ambiguous=Delivery.ambiguous + 1,
            claimed_by=None,
            lease_until=None,
            next_attempt_at=now,
            last_error="interrupted while sending (ambiguous)",
            updated_at=now,
        )
    )
    freed = await session.execute(
        released.values(claimed_by=None, lease_until=None, updated_at=now)
    )
    return _rowcount(ambiguous), _rowcount(freed)


async def renew_leases(
    session: AsyncSession,
    *,
    worker: str,
    ids: Sequence[int],
    now: dt.datetime,
    lease: dt.timedelta,
) -> set[int]:
    """Extend this worker's leases on `ids`; returns the ids it still holds (the others were
    reaped after an expired lease and may belong to another worker now)."""
    if not ids:
        return set()
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(list(ids)), Delivery.claimed_by == worker)
        .where(Delivery.state.in_(OPEN_STATES))
        .values(lease_until=now + lease)
        .returning(Delivery.id)
    )
    return set((await session.execute(statement)).scalars().all())


async def release_claims(
    session: AsyncSession, *, worker: str, now: dt.datetime, ids: Sequence[int] | None = None
) -> int:
    """Hand this worker's pending rows back at once (a clean shutdown); `sending` rows stay
    claimed, as their outcome is unknown: they are reaped as ambiguous when the lease ends."""
    statement = update(Delivery).where(Delivery.claimed_by == worker, Delivery.state == "pending")
    if ids is not None:
        statement = statement.where(Delivery.id.in_(list(ids)))
    freed = statement.values(claimed_by=None, lease_until=None, updated_at=now)
    return _rowcount(await session.execute(freed))


def _rowcount(result: Any) -> int:
    """The rows an UPDATE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


async def apply_changes(session: AsyncSession, *, changes: Sequence[RowChange]) -> None:
    """Set columns on many rows, one executemany per distinct set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        keys = tuple(sorted(change.values))
        params = {f"v_{key}": value for key, value in change.values.items()}
        groups.setdefault(keys, []).append({"row_id": change.id, **params})
    for keys, rows in groups.items():
        statement = (
            update(_DELIVERIES)
            .where(_DELIVERIES.c.id == bindparam("row_id"))
            .values({key: bindparam(f"v_{key}") for key in keys})
        )
        await session.execute(statement, rows)


async def close_chat_rows(
    session: AsyncSession, *, chat_id: int, state: State, reason: str, now: dt.datetime
) -> int:
    """End every open row of a chat (a blocked chat gets nothing more)."""
    statement = (
        update(Delivery)
        .where(Delivery.chat_id == chat_id, Delivery.state.in_(OPEN_STATES))
        .values(state=state, last_error=reason[:500], claimed_by=None, updated_at=now)
    )
    return _rowcount(await session.execute(statement))


async def skip_queued_rows(
    session: AsyncSession, *, chat_id: int, reason: str, now: dt.datetime
) -> int:
    """Skip a chat's rows still waiting in the outbox (the chat unsubscribed).

    Only `pending` rows no worker holds are touched: a row being sent stays with its sender,
    whose next write would undo the skip (it finishes, as the unsubscribe came too late).
    """
    statement = (
        update(Delivery)
        .where(Delivery.chat_id == chat_id, Delivery.state == "pending")
        .where(or_(Delivery.claimed_by.is_(None), Delivery.lease_until < now))
        .values(
            state="skipped",
            last_error=reason[:500],
            claimed_by=None,
            lease_until=None,
            updated_at=now,
        )
    )
    return _rowcount(await session.execute(statement))


MIGRATED_SUPERSEDED = "migrated; superseded by the new chat's row"


@dataclass(frozen=True, slots=True)
class MovedRows:
    """What `move_chat_rows` did: how many rows now belong to the new id, and the ids of the
    rows closed instead (the new id already had their day, kind and seq)."""

    moved: int
    superseded: frozenset[int]


async def move_chat_rows(
    session: AsyncSession,
    *,
    old_id: int,
    new_id: int,
    now: dt.datetime,
    unclaimed_only: bool = False,
) -> MovedRows:
    """Point a migrated group's open rows at its new supergroup id.

    A row whose (day, kind, seq) the new id already has (the dispatcher queued one there after
    the migrate message, or it was sent) can not move: the unique key forbids it, and the chat
    would get that message twice. It is closed as `skipped` instead, and a sender holding it
    must not send it (`superseded`). With `unclaimed_only`, rows a worker holds are left to it
    (the worker moves them when Telegram answers ChatMigrated). On PostgreSQL, a row the new id
    gains from a concurrent transaction after the check fails the move: the move runs in a
    savepoint and the check is made again (twice), so the caller's transaction goes on.
    """
    other = aliased(Delivery)
    taken = select(other.id).where(
        other.chat_id == new_id,
        other.digest_date == Delivery.digest_date,
        other.kind == Delivery.kind,
        other.seq == Delivery.seq,
    )
    old_open = [Delivery.chat_id == old_id, Delivery.state.in_(OPEN_STATES)]
    if unclaimed_only:
        old_open.append(or_(Delivery.claimed_by.is_(None), Delivery.lease_until < now))
    close = (
        update(Delivery)
        .where(*old_open, taken.exists())
        .values(
            state="skipped",
            last_error=MIGRATED_SUPERSEDED,
            claimed_by=None,
            lease_until=None,
            updated_at=now,
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    move = (
        update(Delivery)
        .where(*old_open)
        .values(chat_id=new_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    superseded: set[int] = set()
    # PostgreSQL: a concurrent insert may take a key after the check. SQLite: one writer.
    retries = 2 if session.get_bind().dialect.name == "postgresql" else 0
    while True:
        superseded.update((await session.execute(close)).scalars().all())
        if retries == 0:
            moved = _rowcount(await session.execute(move))
            return MovedRows(moved, frozenset(superseded))
        retries -= 1
        try:
            async with session.begin_nested():
                moved = _rowcount(await session.execute(move))
        except IntegrityError:
            continue
        return MovedRows(moved, frozenset(superseded))


async def counts_by_state(
    session: AsyncSession, *, digest_date: dt.date | None = None
) -> dict[str, int]:
    """How many rows are in each state (every state listed, zeros included)."""
    query = select(Delivery.state, func.count()).group_by(Delivery.state)
    if digest_date is not None:
        query = query.where(Delivery.digest_date == digest_date)
    counts: dict[str, int] = dict.fromkeys(STATES, 0)
    for state, count in (await session.execute(query)).all():
        counts[state] = int(count)
    return counts


async def last_sent_at(session: AsyncSession) -> dt.datetime | None:
    """When the newest sent row was sent (None: nothing sent yet)."""
    query = select(func.max(Delivery.sent_at)).where(Delivery.state == "sent")
    value: dt.datetime | None = (await session.execute(query)).scalar_one()
    return value


async def ambiguous_total(session: AsyncSession) -> int:
    """Ambiguous outcomes counted over every row."""
    query = select(func.coalesce(func.sum(Delivery.ambiguous), 0))
    return int((await session.execute(query)).scalar_one())


async def recent_errors(session: AsyncSession, *, limit: int = 5) -> list[Delivery]:
    """The latest rows that recorded an error."""
    query = (
        select(Delivery)
        .where(Delivery.last_error.isnot(None))
        .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def last_sent(session: AsyncSession, *, chat_id: int) -> Delivery | None:
    """The chat's most recent sent row."""
    query = (
        select(Delivery)
        .where(Delivery.chat_id == chat_id, Delivery.state == "sent")
        .order_by(Delivery.digest_date.desc(), Delivery.sent_at.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def last_delivery(session: AsyncSession, *, chat_id: int) -> Delivery | None:
    """The chat's latest delivered digest or update (for /status: `.digest_date`, `.sent_at`)."""
    query = (
        select(Delivery)
        .where(Delivery.chat_id == chat_id, Delivery.state == "sent")
        .where(Delivery.sent_at.isnot(None))
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


@dataclass(frozen=True, slots=True)
class RowKey:
    """The light columns of a row the dispatcher needs to know what a chat already has."""

    chat_id: int
    digest_date: dt.date
    kind: str
    seq: int
    created_at: dt.datetime


async def row_keys(session: AsyncSession, *, since: dt.date) -> list[RowKey]:
    """(chat, day, kind, seq, created) of every row for days from `since` on."""
    query = select(
        Delivery.chat_id, Delivery.digest_date, Delivery.kind, Delivery.seq, Delivery.created_at
    ).where(Delivery.digest_date >= since)
    return [RowKey(*row) for row in (await session.execute(query)).all()]


async def weekly_chats(
    session: AsyncSession, *, chat_ids: Sequence[int], week_start: dt.date
) -> set[int]:
    """Those of `chat_ids` that already have a weekly row for the week starting `week_start`
    (by chat id first: the unique key's index answers it without scanning the outbox)."""
    query = select(Delivery.chat_id).where(
        Delivery.chat_id.in_(list(chat_ids)),
        Delivery.digest_date == week_start,
        Delivery.kind == "weekly",
    )
    return set((await session.scalars(query)).all())


async def known_ids(session: AsyncSession, *, chat_id: int, digest_date: dt.date) -> set[str]:
    """Every paper id a chat's rows for a day were built from (what it has already seen),
    but for `failed` rows: their papers never arrived, so an update carries them again."""
    query = select(Delivery.known_ids).where(
        Delivery.chat_id == chat_id,
        Delivery.digest_date == digest_date,
        Delivery.state != "failed",
        Delivery.kind.in_(("digest", "update")),  # a weekly row of that Monday is another edition
    )
    return {arxiv_id for ids in (await session.scalars(query)).all() for arxiv_id in ids}


async def reset_for_resend(
    session: AsyncSession, *, chat_id: int, digest_date: dt.date, now: dt.datetime
) -> int:
    """Make a chat's rows for a day go out again from their first message (admin /resend)."""
    statement = (
        update(Delivery)
        .where(Delivery.chat_id == chat_id, Delivery.digest_date == digest_date)
        .where(Delivery.state != "sending")
        .values(
            state="pending",
            message_ids=[],
            attempts=0,
            next_attempt_at=now,
            claimed_by=None,
            last_error=None,
            updated_at=now,
        )
    )
    return _rowcount(await session.execute(statement))


# source polls


async def get_poll(session: AsyncSession, *, source: str) -> SourcePoll | None:
    """The last poll of a source."""
    return await session.get(SourcePoll, source)


async def record_poll(
    session: AsyncSession,
    *,
    source: str,
    now: dt.datetime,
    status: str,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> SourcePoll:
    """Store the outcome of one poll; validators are kept when a poll brings none."""
    poll = await session.get(SourcePoll, source)
    if poll is None:
        poll = SourcePoll(source=source, failures=0)
        session.add(poll)
    poll.last_polled_at, poll.last_status, poll.last_error = now, status, error
    if error is None:
        poll.last_success_at, poll.failures = now, 0
    else:
        poll.failures = (poll.failures or 0) + 1
    poll.etag = etag or poll.etag
    poll.last_modified = last_modified or poll.last_modified
    await session.flush()
    return poll


async def all_polls(session: AsyncSession) -> list[SourcePoll]:
    """Every source's last poll, by name."""
    return list((await session.scalars(select(SourcePoll).order_by(SourcePoll.source))).all())


async def recent_polls(session: AsyncSession, *, limit: int = 6) -> list[SourcePoll]:
    """The most recently polled sources, newest first."""
    query = select(SourcePoll).order_by(SourcePoll.last_polled_at.desc()).limit(limit)
    return list((await session.scalars(query)).all())


# readiness


async def observe_digest(
    session: AsyncSession,
    *,
    date: dt.date,
    content_hash: str,
    paper_count: int,
    now: dt.datetime,
) -> DigestReadiness:
    """Note the digest's current content; a change restarts its settle period."""
    row = await session.get(DigestReadiness, date)
    if row is None:
        row = DigestReadiness(
            date=date,
            content_hash=content_hash,
            paper_count=paper_count,
            first_seen_at=now,
            last_changed_at=now,
        )
        session.add(row)
    elif row.content_hash != content_hash:
        row.content_hash, row.paper_count, row.last_changed_at = content_hash, paper_count, now
        row.by_hand = False
    await session.flush()
    return row


async def observe_day(
    session: AsyncSession, *, date: dt.date, now: dt.datetime
) -> DigestReadiness | None:
    """Observe the day's papers as stored now, every source merged; None if it has none.

    One source: its revision's hash. Several (the HF list and a Markdown digest): a hash of
    theirs, so a change in either restarts the settle period; the count is of distinct papers.
    """
    from storage.papers import latest_revisions, revision_ids  # heavy; only needed here

    revisions = [info for info in await latest_revisions(session, date=date) if info.paper_count]
    if not revisions:
        return None
    if len(revisions) == 1:
        content, count = revisions[0].content_hash, revisions[0].paper_count
    else:
        joined = "|".join(f"{info.format}:{info.content_hash}" for info in revisions)
        content = hashlib.sha256(joined.encode()).hexdigest()
        ids = {i for info in revisions for i in await revision_ids(session, digest_id=info.id)}
        count = len(ids)
    return await observe_digest(
        session, date=date, content_hash=content, paper_count=count, now=now
    )


async def mark_ready(
    session: AsyncSession, *, date: dt.date, now: dt.datetime, by_hand: bool = False
) -> None:
    """Record that the day's digest is complete enough to deliver (`by_hand`: settled now)."""
    row = await session.get(DigestReadiness, date)
    if row is not None and row.ready_at is None:
        row.ready_at = now
    if row is not None and by_hand:
        row.by_hand = True
    await session.flush()


async def readiness(session: AsyncSession, *, date: dt.date) -> DigestReadiness | None:
    """The day's readiness row."""
    return await session.get(DigestReadiness, date)


async def unready_days(session: AsyncSession) -> list[DigestReadiness]:
    """Days seen but not yet judged complete, oldest first."""
    query = select(DigestReadiness).where(DigestReadiness.ready_at.is_(None))
    return list((await session.scalars(query.order_by(DigestReadiness.date))).all())


async def ready_days(session: AsyncSession, *, since: dt.date) -> list[DigestReadiness]:
    """Ready days from `since` on, oldest first."""
    query = (
        select(DigestReadiness)
        .where(DigestReadiness.date >= since, DigestReadiness.ready_at.isnot(None))
        .order_by(DigestReadiness.date)
    )
    return list((await session.scalars(query)).all())
