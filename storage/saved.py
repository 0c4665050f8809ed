"""Saved papers: each user's ⭐ library (keyword-only, session first, never commits).

A save belongs to a user, wherever they pressed ⭐; `chat_id` keeps where, so that a group's
"for you" can learn from what its members saved there. A private chat's id is its user's id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, ForeignKey, Index, String, delete, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, StoredPaper, UTCDateTime
from storage.search_index import DOCUMENTS

MAX_SAVED = 5_000  # per user: a library larger than this is an accident (or a script)


class SavedPaper(Base):
    """One paper a user saved, and in which chat."""

    __tablename__ = "saved_papers"
    __table_args__ = (
        Index("ix_saved_papers_user_saved_at", "user_id", "saved_at"),
        Index("ix_saved_papers_chat_id", "chat_id"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    arxiv_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("papers.arxiv_id"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LibraryFull(Exception):
    """The user already has `MAX_SAVED` papers."""


@dataclass(frozen=True, slots=True)
class Toggled:
    """What a ⭐ press did: saved (True) or removed (False), and the library's size after."""

    saved: bool
    count: int


async def count_saved(session: AsyncSession, *, user_id: int) -> int:
    """How many papers the user has saved."""
    query = select(func.count()).select_from(SavedPaper).where(SavedPaper.user_id == user_id)
    return int(await session.scalar(query) or 0)


async def is_saved(session: AsyncSession, *, user_id: int, arxiv_id: str) -> bool:
    """Whether the user saved this paper."""
    return await session.get(SavedPaper, (user_id, arxiv_id)) is not None


async def paper_exists(session: AsyncSession, *, arxiv_id: str) -> bool:
    """Whether the archive has this paper (only archived papers can be saved)."""
    return await session.get(StoredPaper, arxiv_id) is not None


async def save(
    session: AsyncSession, *, user_id: int, arxiv_id: str, chat_id: int, now: dt.datetime
) -> bool:
    """Save a paper; False when it was saved already. LibraryFull past `MAX_SAVED`; LookupError
    when the archive has no such paper."""
    if await is_saved(session, user_id=user_id, arxiv_id=arxiv_id):
        return False
    if not await paper_exists(session, arxiv_id=arxiv_id):
        raise LookupError(arxiv_id)
    if await count_saved(session, user_id=user_id) >= MAX_SAVED:
        raise LibraryFull(user_id)
    session.add(SavedPaper(user_id=user_id, arxiv_id=arxiv_id, chat_id=chat_id, saved_at=now))
    await session.flush()
    return True


async def unsave(session: AsyncSession, *, user_id: int, arxiv_id: str) -> bool:
    """Remove a saved paper; False when it was not saved."""
    query = delete(SavedPaper).where(SavedPaper.user_id == user_id, SavedPaper.arxiv_id == arxiv_id)
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))


async def toggle(
    session: AsyncSession, *, user_id: int, arxiv_id: str, chat_id: int, now: dt.datetime
) -> Toggled:
    """Save the paper, or remove it when it was saved (one ⭐ button does both)."""
    if await unsave(session, user_id=user_id, arxiv_id=arxiv_id):
        return Toggled(False, await count_saved(session, user_id=user_id))
    await save(session, user_id=user_id, arxiv_id=arxiv_id, chat_id=chat_id, now=now)
    return Toggled(True, await count_saved(session, user_id=user_id))


async def saved_ids(
    session: AsyncSession, *, user_id: int, offset: int = 0, limit: int | None = None
) -> list[str]:
    """The user's saved papers, newest first (ties: by id, so pages are stable)."""
    query = (
        select(SavedPaper.arxiv_id)
        .where(SavedPaper.user_id == user_id)
        .order_by(SavedPaper.saved_at.desc(), SavedPaper.arxiv_id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


async def library_of_chats(
    session: AsyncSession, *, chat_ids: Sequence[int], limit: int = 200
) -> dict[int, list[str]]:
    """Each chat's library for "for you": in a private chat its user's saves (anywhere), in a
    group what was saved there; the newest `limit` of each. One query per call."""
    if not chat_ids:
        return {}
    # A save counts for its user and, when pressed elsewhere, for that chat: two index searches
    # (cheaper than one with OR, whose rows all go through one sort), each row naming its owner.
    # A user's id is their private chat's; a group's id is negative, so never a user's.
    table = SavedPaper.__table__.c  # a Core query: 10,000s of rows skip the ORM's loading
    columns = (table.arxiv_id, table.saved_at)
    saves = union_all(
        select(table.user_id.label("owner"), *columns).where(table.user_id.in_(chat_ids)),
        select(table.chat_id.label("owner"), *columns).where(
            table.chat_id.in_(chat_ids), table.chat_id != table.user_id
        ),
    ).subquery()
    query = select(saves.c.owner, saves.c.arxiv_id).order_by(
        saves.c.owner, saves.c.saved_at.desc(), saves.c.arxiv_id
    )
    found: dict[int, dict[str, None]] = {chat_id: {} for chat_id in chat_ids}
    for owner, arxiv_id in await session.execute(query):
        library = found[owner]
        if len(library) < limit:
            library.setdefault(arxiv_id)
    return {chat_id: list(ids) for chat_id, ids in found.items()}


@dataclass(frozen=True, slots=True)
class PaperDocument:
    """A paper's analysed tokens as the search index holds them (the recommender's input)."""

    arxiv_id: str
    title_tokens: str
    body_tokens: str
    author_tokens: str
    votes: int | None
    day: dt.date


ArchiveVersion = tuple[int, int, dt.date | None]


async def archive_version(session: AsyncSession) -> ArchiveVersion:
    """What changes when papers are indexed: the documents' count, newest row and newest day."""
    query = select(func.count(), func.max(DOCUMENTS.c.id), func.max(DOCUMENTS.c.day))
    count, newest, day = (await session.execute(query)).one()
    return int(count or 0), int(newest or 0), day


async def paper_documents(
    session: AsyncSession, *, arxiv_ids: Sequence[str] | None = None, newest: int | None = None
) -> list[PaperDocument]:
    """Every indexed paper's tokens (or those of `arxiv_ids`, or the `newest` papers), oldest
    day first."""
    columns = DOCUMENTS.c
    query = select(
        columns.arxiv_id,
        columns.title_tokens,
        columns.body_tokens,
        columns.author_tokens,
        columns.votes,
        columns.day,
    )
    if arxiv_ids is not None:
        query = query.where(columns.arxiv_id.in_(list(arxiv_ids)))
    if newest is not None:
        query = query.order_by(columns.day.desc(), columns.id.desc()).limit(newest)
        return [PaperDocument(*row) for row in reversed((await session.execute(query)).all())]
    query = query.order_by(columns.day, columns.id)
    return [PaperDocument(*row) for row in await session.execute(query)]
