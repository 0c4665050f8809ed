"""/poll in a group: a journal-club poll of the latest digest's papers; /poll close: the winner."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputPollOption, LinkPreviewOptions, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.digest.models import Paper
from bot.edition.selection import select_papers
from bot.i18n import Lang, Markup, translate
from bot.render import render_paper_line
from bot.render.poll import MIN_OPTIONS, render_poll
from bot.services import get_services
from handlers.cache import cached
from handlers.common import COMMAND_UPDATES, arguments, chat_language
from handlers.errors import UserError
from handlers.lookup import as_paper, chat_filters
from storage import chats, papers, polls

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
CLOSE_WORDS = frozenset({"close", "stop", "end", "마감", "종료"})

DayRead = tuple[papers.DigestInfo, list[Paper]] | None


async def _latest_day(session: AsyncSession) -> DayRead:
    """The latest digest's day and its merged papers, or None for an empty archive."""
    info = await papers.latest_digest(session)
    if info is None:
        return None
    return info, await papers.day_papers(session, date=info.date)


async def start_poll(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: Lang) -> None:
    """Send the paper links, then the native poll, and remember which papers it offers."""
    services = get_services(context)
    chat = update.effective_chat
    assert chat is not None
    found = await cached(context, ("poll-day",), _latest_day)
    if found is None:
        raise UserError("poll.no_digest")
    info, entries = found
    async with services.sessions() as session:
        row = await chats.get_chat(session, chat_id=chat.id)
    shown = select_papers(entries, chat_filters(row))
    date = info.date.isoformat()
    if len(shown) < MIN_OPTIONS:
        raise UserError("poll.too_few", date=date)
    content = render_poll(shown, question=translate(lang, "poll.question", date=date), lang=lang)
    links = translate(lang, "poll.links", date=date, lines=Markup(content.lines))
    await chat.send_message(links, link_preview_options=NO_PREVIEW)
    sent = await chat.send_poll(
        content.question,
        [InputPollOption(option, text_parse_mode=None) for option in content.options],
        question_parse_mode=None,  # titles are plain text, not HTML
    )
    assert sent.poll is not None
    async with services.sessions.begin() as session:
        await polls.add_poll(
            session,
            chat_id=chat.id,
            message_id=sent.message_id,
            poll_id=sent.poll.id,
            day=info.date,
            arxiv_ids=list(content.arxiv_ids),
            now=services.clock(),
        )


async def close_poll(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: Lang) -> None:
    """Stop the chat's open poll and reply with the most voted paper (all of them on a tie)."""
    services = get_services(context)
    chat = update.effective_chat
    assert chat is not None
    assert update.effective_message is not None
    async with services.sessions() as session:
        open_ = await polls.open_poll(session, chat_id=chat.id)
    if open_ is None:
        raise UserError("poll.none_open")
    try:
        final = await context.bot.stop_poll(chat.id, open_.message_id)
    except BadRequest:  # closed or deleted in Telegram itself: nothing left to count
        final = None
    async with services.sessions.begin() as session:
        await polls.close_poll(
            session, chat_id=chat.id, message_id=open_.message_id, now=services.clock()
        )
    if final is None:
        raise UserError("poll.none_open")
    counts = [option.voter_count for option in final.options]
    best = max(counts, default=0)
    if best == 0:
        raise UserError("poll.closed_nobody")
    winners = [
        open_.arxiv_ids[i] for i, n in enumerate(counts) if n == best and i < len(open_.arxiv_ids)
    ]
    async with services.sessions() as session:
        found = await papers.get_papers(session, arxiv_ids=winners)
    lines = [
        render_paper_line(as_paper(info), rank=open_.arxiv_ids.index(info.arxiv_id) + 1, lang=lang)
        for info in found
    ]
    total = final.total_voter_count
    if len(lines) == 1:
        text = translate(lang, "poll.closed", votes=best, total=total, line=Markup(lines[0]))
    else:
        text = translate(
            lang, "poll.closed_tie", votes=best, total=total, lines=Markup("\n".join(lines))
        )
    await update.effective_message.reply_text(text, link_preview_options=NO_PREVIEW)


async def poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/poll starts a journal-club poll in a group; /poll close stops it."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        raise UserError("poll.private")
    word = arguments(context, limit=40).lower()
    lang = await chat_language(update, context)
    if not word:
        await start_poll(update, context, lang)
    elif word in CLOSE_WORDS:
        await close_poll(update, context, lang)
    else:
        raise UserError("poll.bad_argument")


HANDLERS: list[BaseHandler[Any, Any, Any] | tuple[BaseHandler[Any, Any, Any], int]] = [
    CommandHandler("poll", poll, filters=COMMAND_UPDATES),
]
