"""/week and /month: the top papers of an ISO week or a month by latest votes, paged."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.i18n import Lang, translate
from bot.render import pack_blocks, render_paper_line
from bot.services import get_services
from handlers.cache import cached
from handlers.common import COMMAND_UPDATES, arguments, chat_language, shorten
from handlers.errors import UserError
from handlers.lookup import as_paper
from storage import chats, papers, tops

PAGE_SIZE = 10
MAX_RESULTS = 50  # five pages
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Kind = Literal["w", "m"]
_WEEK = re.compile(r"(?P<year>\d{4})-?W(?P<week>\d{1,2})", re.IGNORECASE)
_MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})")
_PAGE_DATA = re.compile(r"top:(?P<kind>[wm]):(?P<period>\d{4}-(?:W\d{2}|\d{2})):(?P<page>\d{1,2})")


@dataclass(frozen=True, slots=True)
class Period:
    """A week (`2025-W05`) or a month (`2025-01`) and its first and last day."""

    kind: Kind
    label: str
    start: dt.date
    end: dt.date


def week_of(day: dt.date) -> Period:
    """The ISO week holding `day`."""
    year, week, _ = day.isocalendar()
    start = day - dt.timedelta(days=day.weekday())
    return Period("w", f"{year:04d}-W{week:02d}", start, start + dt.timedelta(days=6))


def month_of(day: dt.date) -> Period:
    """The month holding `day`."""
    start = day.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return Period("m", f"{day.year:04d}-{day.month:02d}", start, following - dt.timedelta(days=1))


def parse_period(kind: Kind, text: str) -> Period | None:
    """`2025-W05` (also `2025W5`) for a week, `2025-01` for a month; None when not one."""
    if kind == "w":
        match = _WEEK.fullmatch(text)
        if match is None:
            return None
        try:
            return week_of(dt.date.fromisocalendar(int(match["year"]), int(match["week"]), 1))
        except ValueError:  # week 0, or 53 in a year of 52
            return None
    match = _MONTH.fullmatch(text)
    if match is None or not 1 <= int(match["month"]) <= 12 or int(match["year"]) < 1:
        return None
    return month_of(dt.date(int(match["year"]), int(match["month"]), 1))


TopsRead = list[papers.PaperInfo]


async def load_tops(session: AsyncSession, period: Period, limit: int = MAX_RESULTS) -> TopsRead:
    """The period's best papers (up to `limit`), best first."""
    ranked = await tops.top_ids(session, start=period.start, end=period.end, limit=limit)
    found = await papers.get_papers(session, arxiv_ids=[arxiv_id for arxiv_id, _ in ranked])
    votes = dict(ranked)
    return [info if info.latest_votes is not None else _with_votes(info, votes) for info in found]


def _with_votes(info: papers.PaperInfo, votes: dict[str, int | None]) -> papers.PaperInfo:
    """A paper without latest votes shows the best a digest gave it."""
    return replace(info, latest_votes=votes.get(info.arxiv_id))


def render_tops(found: Sequence[papers.PaperInfo], period: Period, page: int, lang: Lang) -> str:
    """One page of a period's tops: header and numbered lines (one message)."""
    key = "tops.week_header" if period.kind == "w" else "tops.month_header"
    header = translate(
        lang,
        key,
        period=period.label,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        count=f"{MAX_RESULTS}+" if len(found) >= MAX_RESULTS else len(found),
    )
    shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [
        render_paper_line(as_paper(info), rank=rank, lang=lang)
        for rank, info in enumerate(shown, page * PAGE_SIZE + 1)
    ]
    return pack_blocks([header, "\n".join(lines)])[0]


def page_keyboard(period: Period, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """◀ page/pages ▶ buttons carrying the period itself (no server-side state to expire)."""
    if pages <= 1:
        return None
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton("◀", callback_data=f"top:{period.kind}:{period.label}:{page - 1}")
        )
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data="top:noop"))
    if page < pages - 1:
        row.append(
            InlineKeyboardButton("▶", callback_data=f"top:{period.kind}:{period.label}:{page + 1}")
        )
    return InlineKeyboardMarkup([row])


async def _today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dt.date:
    """Today in the chat's time zone (the configured default for a new chat)."""
    services = get_services(context)
    assert update.effective_chat is not None
    async with services.sessions() as session:
        row = await chats.get_chat(session, chat_id=update.effective_chat.id)
    try:
        zone = zoneinfo.ZoneInfo(row.timezone if row else services.settings.default_timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(services.settings.default_timezone)
    return services.clock().astimezone(zone).date()


async def _tops(context: ContextTypes.DEFAULT_TYPE, period: Period) -> TopsRead:
    """The period's tops through the read cache."""
    return await cached(context, ("tops", period.label), lambda s: load_tops(s, period))


async def _latest_period(
    context: ContextTypes.DEFAULT_TYPE, kind: Kind, *, before: dt.date | None = None
) -> Period | None:
    """The period of the archive's newest digest (before that day when given), if any."""
    async with get_services(context).sessions() as session:
        latest = await papers.latest_digest(session, before=before)
    if latest is None:
        return None
    return week_of(latest.date) if kind == "w" else month_of(latest.date)


async def _chosen_period(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: Kind
) -> tuple[Period, TopsRead]:
    """The period the arguments name (the current one, else the last with papers) and its tops."""
    text = arguments(context, limit=40)
    today = await _today(update, context)
    if text:
        period = parse_period(kind, text)
        if period is None:
            raise UserError(
                "tops.bad_week" if kind == "w" else "tops.bad_month", text=shorten(text)
            )
        if period.start > today:
            raise UserError("tops.future", period=period.label)
        found = await _tops(context, period)
    else:
        period = week_of(today) if kind == "w" else month_of(today)
        found = await _tops(context, period)
        # Monday morning (the week just begun has no papers yet), or an archive whose
        # sources stopped: the newest period that has papers.
        latest = None if found else await _latest_period(context, kind, before=period.start)
        if latest is not None:
            period = latest
            found = await _tops(context, period)
    if not found:
        newest = await _latest_period(context, kind)
        if newest is None or newest == period:
            raise UserError("tops.empty", period=period.label)
        command = "/week" if kind == "w" else "/month"
        raise UserError(
            "tops.empty_newest", period=period.label, newest=f"{command} {newest.label}"
        )
    return period, found


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: Kind) -> None:
    """Reply with the first page of the chosen period's tops."""
    period, found = await _chosen_period(update, context, kind)
    lang = await chat_language(update, context)
    pages = -(-len(found) // PAGE_SIZE)
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        render_tops(found, period, 0, lang),
        reply_markup=page_keyboard(period, 0, pages),
        link_preview_options=NO_PREVIEW,
    )


async def week(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/week [YYYY-Www]: the week's top papers."""
    await _send(update, context, "w")


async def month(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/month [YYYY-MM]: the month's top papers."""
    await _send(update, context, "m")


async def tops_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A page button: that page in place; forged or impossible data gets the expired answer."""
    callback = update.callback_query
    assert callback is not None
    if callback.data == "top:noop":
        await callback.answer()
        return
    match = _PAGE_DATA.fullmatch(callback.data or "")
    kind: Kind = "w" if match and match["kind"] == "w" else "m"
    period = parse_period(kind, match["period"]) if match else None
    found = await _tops(context, period) if period else []
    page = int(match["page"]) if match else 0
    pages = -(-len(found) // PAGE_SIZE)
    if period is None or not 0 <= page < pages:
        raise UserError("lookup.button_expired")
    await callback.answer()
    lang = await chat_language(update, context)
    await callback.edit_message_text(
        render_tops(found, period, page, lang),
        reply_markup=page_keyboard(period, page, pages),
        link_preview_options=NO_PREVIEW,
    )


HANDLERS: list[BaseHandler[Any, Any, Any] | tuple[BaseHandler[Any, Any, Any], int]] = [
    CommandHandler("week", week, filters=COMMAND_UPDATES),
    CommandHandler("month", month, filters=COMMAND_UPDATES),
    CallbackQueryHandler(tops_page, pattern=r"^top:"),
]
