"""Compose one outbox row for a chat and day: select its papers, render them, queue the row.

Shared by the dispatcher (bot/delivery/dispatch.py, which inserts a whole pass's rows at once)
and the admin's /resend (handlers/admin.py, which may not import the scheduler). `plan_row` is pure;
only `queue_row` touches storage.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Paper
from bot.edition.selection import (
    ChatFilters,
    followed_spellings,
    keyword_matches,
    select_papers,
)
from bot.i18n import resolve_language, translate
from bot.render import Lang, render_weekly
from bot.render.papers import (
    BlockRenderer,
    Packing,
    add_for_you,
    block_body,
    pack_digest,
    ranked,
)
from bot.render.poll import MIN_OPTIONS, render_poll
from storage.chats import Chat
from storage.deliveries import add_delivery, new_delivery

RowKind = Literal["digest", "update"]
# The chat's "for you" papers, best first, among the candidates it is given (bot.recommend.picks).
ForYouPicker = Callable[[Sequence[Paper]], list[Paper]]


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

    # A selection's header and papers, packed once (`packed`), and its messages (`rendered`).
    # A "for you" section makes most chats' messages unique: each chat's picks are packed on
    # after its selection's part and not kept. A block is made once by (day, paper, rank,
    # language, followed) (`blocks`), from its body made once by the same but the rank
    # (`bodies`: a pick's rank varies from chat to chat).
    packed: dict[tuple[Any, ...], Packing] = field(default_factory=dict)
    rendered: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    blocks: dict[tuple[Any, ...], str] = field(default_factory=dict)
    bodies: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def render(
        self,
        papers: Sequence[Paper],
        *,
        date: dt.date,
        lang: Lang,
        followed: frozenset[str],
        late: bool,
        update: bool,
        for_you: Sequence[Paper] = (),
    ) -> list[str]:
        """The messages for a selection (and the chat's picks), from the cache when it can."""
        shared = (tuple(p.arxiv_id for p in papers), lang, followed, date, late, update)
        if shared not in self.packed:
            self.packed[shared] = pack_digest(
                papers,
                date=date,
                lang=lang,
                followed_authors=followed,
                late=late,
                update=update,
                block=self._block_of(date),
            )
            self.rendered[shared] = self.packed[shared].messages()
        if not for_you:
            return self.rendered[shared]
        return add_for_you(
            self.packed[shared],
            for_you,
            lang=lang,
            start=1 + len(papers),
            followed_authors=followed,
            block=self._block_of(date),
        )

    def _block_of(self, date: dt.date) -> BlockRenderer:
        """The day's block renderer, through the cache."""

        def block(paper: Paper, rank: int, lang: Lang, *, followed: bool) -> str:
            memo = (date, paper.arxiv_id, rank, lang, followed)
            if memo not in self.blocks:
                body = (date, paper.arxiv_id, lang, followed)
                if body not in self.bodies:
                    self.bodies[body] = block_body(paper, lang, followed=followed)
                self.blocks[memo] = ranked(rank, self.bodies[body])
            return self.blocks[memo]

        return block


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


def _rest_of_day(
    papers: Sequence[Paper], chosen: Sequence[Paper], excluded: Sequence[str]
) -> list[Paper]:
    """The "for you" candidates: the day's papers not selected and not excluded by keyword."""
    taken = {paper.arxiv_id for paper in chosen}
    rest = [paper for paper in papers if paper.arxiv_id not in taken]
    if not excluded:
        return rest
    return [paper for paper in rest if not any(keyword_matches(paper, w) for w in excluded)]


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
    for_you: ForYouPicker | None = None,
) -> PlannedRow:
    """Select the chat's papers (those not `seen` yet) and render them into an outbox row; an
    empty selection makes a `skipped` row with no messages (nothing is sent).

    `for_you` picks the chat's "✨ For you" papers among the rest of the day (the papers not
    selected, its exclude keywords still apply); they follow the selection in the same
    messages, and only a digest that sends something carries them."""
    fresh = [paper for paper in papers if paper.arxiv_id not in seen]
    chosen = select_papers(fresh, chat_filters(chat))
    picks: list[Paper] = []
    if chosen and for_you is not None:
        picks = for_you(_rest_of_day(fresh, chosen, chat.exclude_keywords or ()))
    messages: list[str] = []
    if chosen:
        messages = (cache or RenderCache()).render(
            chosen,
            date=date,
            lang=chat_lang(chat, default_language),
            followed=followed_spellings(chosen, chat.followed_authors or ()),
            late=late,
            update=kind == "update",
            for_you=picks,
        )
    row = new_delivery(
        chat_id=chat.chat_id,
        digest_date=date,
        kind=kind,
        seq=seq,
        messages=messages,
        arxiv_ids=[paper.arxiv_id for paper in chosen],  # the picks are in the messages only
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


def plan_weekly_row(
    *,
    chat: Chat,
    week: str,
    start: dt.date,
    papers: Sequence[Paper],
    now: dt.datetime,
    default_language: str,
    late: bool = False,
) -> PlannedRow:
    """The chat's weekly digest of the week `week` (`2025-W05`, starting Monday `start`):
    its filters over the week's papers, best first; a `skipped` row when nothing passes."""
    chosen = select_papers(papers, chat_filters(chat))
    messages: list[str] = []
    if chosen:
        messages = render_weekly(
            chosen,
            week=week,
            start=start,
            end=start + dt.timedelta(days=6),
            lang=chat_lang(chat, default_language),
            followed_authors=followed_spellings(chosen, chat.followed_authors or ()),
            late=late,
        )
    row = new_delivery(
        chat_id=chat.chat_id,
        digest_date=start,
        kind="weekly",
        messages=messages,
        arxiv_ids=[paper.arxiv_id for paper in chosen],
        known_ids=[],
        now=now,
        late=late,
        state="pending" if chosen else "skipped",
    )
    return PlannedRow(row, len(chosen))


def poll_payload(question: str, options: Sequence[str], arxiv_ids: Sequence[str]) -> str:
    """A poll row's one message: what `sendPoll` needs and the papers behind its options."""
    data = {"question": question, "options": list(options), "arxiv_ids": list(arxiv_ids)}
    return json.dumps(data, ensure_ascii=False)


def plan_poll_row(
    *, chat: Chat, date: dt.date, chosen: Sequence[Paper], now: dt.datetime, default_language: str
) -> PlannedRow | None:
    """The journal-club poll that follows a group's daily digest of `chosen` papers (None when
    fewer than two papers leave nothing to vote on)."""
    if len(chosen) < MIN_OPTIONS:
        return None
    lang = chat_lang(chat, default_language)
    question = translate(lang, "poll.question", date=date.isoformat())
    content = render_poll(chosen, question=question, lang=lang)
    row = new_delivery(
        chat_id=chat.chat_id,
        digest_date=date,
        kind="poll",
        messages=[poll_payload(content.question, content.options, content.arxiv_ids)],
        arxiv_ids=list(content.arxiv_ids),
        known_ids=[],
        now=now,
    )
    return PlannedRow(row, len(content.arxiv_ids))
