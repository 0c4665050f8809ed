"""Compose one outbox row for a chat and day: select its papers, render them, queue the row.

Shared by the dispatcher (bot/delivery/dispatch.py, which inserts a whole pass's rows at once)
and the admin's /resend (handlers/admin.py, which may not import the scheduler). `plan_row` is pure;
only `queue_row` touches storage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Paper
from bot.edition.selection import ChatFilters, followed_spellings, select_papers
from bot.i18n import resolve_language
from bot.render import Lang, render_digest
from storage.chats import Chat
from storage.deliveries import add_delivery, new_delivery

RowKind = Literal["digest", "update"]


def chat_lang(chat: Chat, default_language: str) -> Lang:
    """The language of a chat's scheduled messages: its setting, else (private chats on
    "automatic") its user's Telegram language, else the default."""
    user = chat.user_language if chat.type == "private" else None
    return resolve_language(chat.language, user, default_language)


def chat_filters(chat: Chat) -> ChatFilters:
    """The selection settings of a chat row."""
    return ChatFilters(
        top_n=chat.top_n,
        min_votes=chat.min_votes,
        include_keywords=tuple(chat.include_keywords or ()),
        exclude_keywords=tuple(chat.exclude_keywords or ()),
        followed_authors=tuple(chat.followed_authors or ()),
    )


@dataclass(slots=True)
class RenderCache:
    """Identical selections render once per dispatch pass (most chats keep the defaults)."""

    rendered: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)

    def render(
        self,
        papers: Sequence[Paper],
        *,
        date: dt.date,
        lang: Lang,
        followed: frozenset[str],
        late: bool,
        update: bool,
    ) -> list[str]:
        """The messages for a selection, from the cache when already rendered."""
        key = (tuple(p.arxiv_id for p in papers), lang, followed, date, late, update)
        if key not in self.rendered:
            self.rendered[key] = render_digest(
                papers, date=date, lang=lang, followed_authors=followed, late=late, update=update
            )
        return self.rendered[key]


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """A row ready to insert (`storage.deliveries.new_delivery` values) and the papers chosen."""

    row: dict[str, Any]
    chosen: int


@dataclass(frozen=True, slots=True)
class Queued:
    """What `queue_row` did: the new row's id (None if it existed) and the papers chosen."""

    row_id: int | None
    chosen: int


def plan_row(
    *,
    chat: Chat,
    date: dt.date,
    papers: Sequence[Paper],
    digest_id: int | None,
    kind: RowKind,
    seq: int,
    now: dt.datetime,
    default_language: str,
    late: bool = False,
    seen: frozenset[str] | set[str] = frozenset(),
    cache: RenderCache | None = None,
) -> PlannedRow:
    """Select the chat's papers (those not `seen` yet) and render them into an outbox row; an
    empty selection makes a `skipped` row with no messages (nothing is sent)."""
    fresh = [paper for paper in papers if paper.arxiv_id not in seen]
    chosen = select_papers(fresh, chat_filters(chat))
    messages: list[str] = []
    if chosen:
        messages = (cache or RenderCache()).render(
            chosen,
            date=date,
            lang=chat_lang(chat, default_language),
            followed=followed_spellings(chosen, chat.followed_authors or ()),
            late=late,
            update=kind == "update",
        )
    row = new_delivery(
        chat_id=chat.chat_id,
        digest_date=date,
        kind=kind,
        seq=seq,
        messages=messages,
        arxiv_ids=[paper.arxiv_id for paper in chosen],
        known_ids=[paper.arxiv_id for paper in papers],
        now=now,
        digest_id=digest_id,
        late=late,
        state="pending" if chosen else "skipped",
    )
    return PlannedRow(row, len(chosen))


async def queue_row(session: AsyncSession, planned: PlannedRow) -> Queued:
    """Add one planned row to the outbox now (the admin's /resend)."""
    return Queued(await add_delivery(session, row=planned.row), planned.chosen)
