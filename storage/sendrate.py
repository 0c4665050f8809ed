"""Cluster-wide send slots (PostgreSQL): every delivery worker books Telegram's overall rate here.

One `send_rate` row per limit holds the epoch second of its next free slot. Booking `count`
slots is one atomic upsert that pushes the row forward by `count × interval` from
max(next_slot, the server's clock) and returns where the booked run starts, read on the
server's clock, so workers on different hosts need no synchronised clocks.

The table lives on its own MetaData: it is pacing state, not archive, so `db copy` skips it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Float, MetaData, String, Table, text
from sqlalchemy.ext.asyncio import AsyncSession

SEND_RATE = Table(
    "send_rate",
    MetaData(),
    Column("name", String(64), primary_key=True),
    Column("next_slot", Float, nullable=False),
)

_BOOK = text(
    """
    INSERT INTO send_rate AS r (name, next_slot)
    VALUES (:name, extract(epoch FROM clock_timestamp()) + :span)
    ON CONFLICT (name) DO UPDATE
    SET next_slot = greatest(r.next_slot, extract(epoch FROM clock_timestamp())) + :span
    RETURNING r.next_slot, extract(epoch FROM clock_timestamp())
    """
)


class SharedRateUnsupported(RuntimeError):
    """Shared send slots need PostgreSQL (SQLite runs a single worker)."""


@dataclass(frozen=True, slots=True)
class Booking:
    """`count` slots `interval` apart from `start`; `server_now` is when the server booked them."""

    start: float
    interval: float
    count: int
    server_now: float


async def book_slots(session: AsyncSession, *, name: str, count: int, interval: float) -> Booking:
    """Atomically book the next `count` send slots of limit `name` (one every `interval` s)."""
    if session.get_bind().dialect.name != "postgresql":
        raise SharedRateUnsupported("shared send slots need PostgreSQL")
    span = count * interval
    row = (await session.execute(_BOOK, {"name": name, "span": span})).one()
    end, server_now = float(row[0]), float(row[1])
    return Booking(start=end - span, interval=interval, count=count, server_now=server_now)
