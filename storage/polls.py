"""Journal-club polls: which papers a chat's native poll offers, and whether it is still open.

Keyword-only functions that take the session and never commit.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Date, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class Poll(Base):
    """A poll the bot sent: its options are papers, in order (migration 0010)."""

    __tablename__ = "polls"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    poll_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    arxiv_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


async def add_poll(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    poll_id: str,
    day: dt.date,
    arxiv_ids: list[str],
    now: dt.datetime,
) -> Poll:
    """Remember a poll just sent."""
    poll = Poll(
        chat_id=chat_id,
        message_id=message_id,
        poll_id=poll_id,
        day=day,
        arxiv_ids=list(arxiv_ids),
        created_at=now,
    )
    session.add(poll)
    await session.flush()
    return poll


async def open_poll(session: AsyncSession, *, chat_id: int) -> Poll | None:
    """The chat's newest poll that is not closed yet, if any."""
    query = (
        select(Poll)
        .where(Poll.chat_id == chat_id, Poll.closed_at.is_(None))
        .order_by(Poll.created_at.desc(), Poll.message_id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def close_poll(
    session: AsyncSession, *, chat_id: int, message_id: int, now: dt.datetime
) -> bool:
    """Mark a poll closed; False when it was closed already (or never existed)."""
    poll = await session.get(Poll, (chat_id, message_id))
    if poll is None or poll.closed_at is not None:
        return False
    poll.closed_at = now
    await session.flush()
    return True
