"""Chats: subscription state and per-chat delivery settings (keyword-only, never commits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, select
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.deliveries import skip_queued_rows
from storage.models import Base, UTCDateTime

CHAT_TYPES = frozenset({"private", "group", "supergroup", "channel"})
SETTINGS_FIELDS = frozenset(
    {
        "language",
        "delivery_time",
        "timezone",
        "weekdays",
        "top_n",
        "min_votes",
        "include_keywords",
        "exclude_keywords",
        "followed_authors",
        "for_you",
        "cadence",
        "journal_poll",
        "title",
    }
)
CADENCES = ("daily", "weekly", "both")  # `chats.cadence`: which digests a chat gets
ALL_WEEKDAYS = "1234567"
UNSUBSCRIBED = "unsubscribed"  # why a queued row was skipped


class Chat(Base):
    """A chat the bot knows: its subscription and how it wants the digest."""

    __tablename__ = "chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # The Telegram language code of a private chat's user (what "automatic" means there).
    user_language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivery_time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    weekdays: Mapped[str] = mapped_column(String(7), default=ALL_WEEKDAYS)
    top_n: Mapped[int] = mapped_column(Integer, default=10)
    min_votes: Mapped[int] = mapped_column(Integer, default=0)
    include_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    followed_authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Migration 0009: the digest's "✨ For you" section (it needs ≥ 3 saved papers as well).
    for_you: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # Migration 0011: daily digests, a weekly one on Monday (last week's top N), or both; and
    # (groups) a journal-club poll of the daily digest's papers right after it.
    cadence: Mapped[str] = mapped_column(String(8), default="daily", server_default="daily")
    journal_poll: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    migrated_to: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def _now(now: dt.datetime | None) -> dt.datetime:
    """The caller's clock reading, else the real UTC time."""
    return now if now is not None else dt.datetime.now(dt.UTC)


async def get_chat(session: AsyncSession, *, chat_id: int) -> Chat | None:
    """The chat with this id, or None."""
    return await session.get(Chat, chat_id)


async def upsert_chat(
    session: AsyncSession,
    *,
    chat_id: int,
    type: str,
    title: str | None,
    delivery_time: str,
    timezone: str,
    now: dt.datetime | None = None,
    user_language: str | None = None,
) -> Chat:
    """The chat row, created with the given defaults when new; type and title kept current,
    and a private chat's `user_language` (its user's Telegram language code) when given."""
    if type not in CHAT_TYPES:
        raise ValueError(f"unknown chat type {type!r}")
    stamp = _now(now)
    chat = await session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(
            chat_id=chat_id,
            type=type,
            title=title,
            subscribed=False,
            active=True,
            delivery_time=delivery_time,
            timezone=timezone,
            weekdays=ALL_WEEKDAYS,
            top_n=10,
            min_votes=0,
            include_keywords=[],
            exclude_keywords=[],
            followed_authors=[],
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(chat)
    elif (chat.type, chat.title) != (type, title):
        chat.type, chat.title, chat.updated_at = type, title, stamp
    if type == "private" and user_language and chat.user_language != user_language[:16]:
        chat.user_language, chat.updated_at = user_language[:16], stamp
    await session.flush()
    return chat


async def subscribe(
    session: AsyncSession,
    *,
    chat_id: int,
    type: str,
    title: str | None,
    delivery_time: str,
    timezone: str,
    now: dt.datetime | None = None,
    user_language: str | None = None,
) -> tuple[Chat, bool]:
    """Subscribe the chat (creating it with the defaults); True when it was not subscribed."""
    stamp = _now(now)
    chat = await upsert_chat(
        session,
        chat_id=chat_id,
        type=type,
        title=title,
        delivery_time=delivery_time,
        timezone=timezone,
        now=stamp,
        user_language=user_language,
    )
    if chat.subscribed and chat.active:
        return chat, False
    chat.subscribed, chat.active, chat.inactive_reason = True, True, None
    chat.subscribed_at, chat.updated_at = stamp, stamp
    await session.flush()
    return chat, True


async def unsubscribe(
    session: AsyncSession, *, chat_id: int, now: dt.datetime | None = None
) -> bool:
    """Unsubscribe the chat; True when it was subscribed.

    A digest already queued for it and not yet being sent (due now, or waiting to retry) is
    skipped, also when the chat was not subscribed any more (a dispatch pass may have queued it
    just as the chat left).
    """
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return False
    stamp = _now(now)
    changed = chat.subscribed
    if changed:  # the chat row first, as in migrate_chat: one lock order on PostgreSQL
        chat.subscribed, chat.unsubscribed_at, chat.updated_at = False, stamp, stamp
        await session.flush()
    await skip_queued_rows(session, chat_id=chat_id, reason=UNSUBSCRIBED, now=stamp)
    return changed


async def update_settings(
    session: AsyncSession, *, chat_id: int, now: dt.datetime | None = None, **changes: Any
) -> Chat:
    """Change settings columns of an existing chat (unknown names are a bug: ValueError)."""
    unknown = changes.keys() - SETTINGS_FIELDS
    if unknown:
        raise ValueError(f"not a chat setting: {sorted(unknown)}")
    chat = await session.get(Chat, chat_id)
    if chat is None:
        raise LookupError(f"no chat {chat_id}")
    for name, value in changes.items():
        # Lists are copied so the JSON column sees a new value (no in-place mutation tracking).
        setattr(chat, name, list(value) if isinstance(value, list | tuple) else value)
    chat.updated_at = _now(now)
    await session.flush()
    return chat


async def subscribed_chats(session: AsyncSession) -> list[Chat]:
    """Every chat that is subscribed and still reachable, by id."""
    query = select(Chat).where(Chat.subscribed.is_(True), Chat.active.is_(True))
    return list((await session.scalars(query.order_by(Chat.chat_id))).all())


async def subscribed_chat_batches(session: AsyncSession, *, size: int) -> AsyncIterator[list[Chat]]:
    """`subscribed_chats`, `size` at a time by id (keyset): a pass over 10,000 chats never
    holds them all, and a batch it let go of is freed (the identity map holds rows weakly)."""
    query = select(Chat).where(Chat.subscribed.is_(True), Chat.active.is_(True))
    query = query.order_by(Chat.chat_id).limit(size)
    after: int | None = None
    while True:
        page = query if after is None else query.where(Chat.chat_id > after)
        batch = list((await session.scalars(page)).all())
        if not batch:
            return
        after = batch[-1].chat_id
        yield batch


async def deactivate(
    session: AsyncSession, *, chat_id: int, reason: str, now: dt.datetime | None = None
) -> bool:
    """Mark a chat unreachable (blocked, kicked); True when it was active."""
    chat = await session.get(Chat, chat_id)
    if chat is None or not chat.active:
        return False
    chat.active, chat.inactive_reason, chat.updated_at = False, reason[:500], _now(now)
    await session.flush()
    return True


# What a migrated group carries to its supergroup: its settings (the title is the new chat's own)
# and its subscription.
_COPIED = (SETTINGS_FIELDS - {"title"}) | {"subscribed", "subscribed_at"}


async def migrate_chat(
    session: AsyncSession, *, old_id: int, new_id: int, now: dt.datetime | None = None
) -> Chat | None:
    """A group became a supergroup: move subscription and settings to `new_id`.

    Idempotent: both the migrate service message and the engine's `ChatMigrated` call this, in
    either order. A group already migrated is left alone (its row no longer holds the
    subscription: copying it again would unsubscribe the supergroup), and a supergroup that is
    subscribed already keeps its own subscription and settings when the group was not.
    Returns the new chat's row (None when the old group is unknown).
    """
    # Locked (PostgreSQL): when both paths run at once, the second waits and then finds the
    # group migrated, instead of both copying and both inserting the supergroup's row.
    old = await session.get(Chat, old_id, with_for_update=True)
    if old is None:
        return None
    new = await session.get(Chat, new_id)
    if old.migrated_to is not None or old_id == new_id:
        return new  # migrated before (by the other path): a migrated row has nothing to give
    stamp = _now(now)
    if new is None:
        new = Chat(
            chat_id=new_id, type="supergroup", title=old.title, active=True, created_at=stamp
        )
        session.add(new)
    if old.subscribed or not new.subscribed:  # never replace a subscription with none
        for name in _COPIED:
            value = getattr(old, name)
            setattr(new, name, list(value) if isinstance(value, list) else value)
        new.active, new.inactive_reason, new.updated_at = True, None, stamp
    old.migrated_to, old.subscribed, old.active = new_id, False, False
    old.inactive_reason, old.updated_at = "migrated", stamp
    await session.flush()
    return new
