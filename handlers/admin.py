"""Operator commands for ADMIN_IDS: /stats, /resend <chat> <date>, and digest files as documents."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.digest import DigestError, parse_digest
from bot.edition.compose import plan_row, queue_row
from bot.i18n import Lang, translate
from bot.services import Services, get_services
from handlers.common import COMMAND_UPDATES, chat_language
from storage import chats, deliveries
from storage.digest_store import store_digest
from storage.keywords import keyword_coverage
from storage.papers import day_papers, digest_for_date, held_revisions
from storage.summaries import summary_stats

log = logging.getLogger(__name__)
MAX_DOCUMENT = 20 * 1024 * 1024  # the Bot API's getFile limit; digests are kilobytes


def is_admin(update: Update, services: Services) -> bool:
    """Whether the sender is listed in ADMIN_IDS."""
    user = update.effective_user
    return user is not None and user.id in services.settings.admin_ids


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The polite refusal, in the sender's language."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        translate(await chat_language(update, context), "admin.refused")
    )


def _when(moment: dt.datetime | None) -> str:
    """A UTC moment as `YYYY-MM-DD HH:MM UTC`, or a dash."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


async def stats_text(session: AsyncSession, lang: Lang) -> str:
    """The /stats report: subscribers, deliveries by state, last polls, recent errors."""
    subscribers = await chats.subscribed_chats(session)
    counts = await deliveries.counts_by_state(session)
    lines = [
        translate(lang, "admin.stats_title"),
        translate(lang, "admin.stats_subscribers", count=len(subscribers)),
        translate(
            lang,
            "admin.stats_deliveries",
            states=", ".join(f"{state} {count}" for state, count in counts.items()),
            ambiguous=await deliveries.ambiguous_total(session),
        ),
        await _summaries_line(session, lang),
        await _keywords_line(session, lang),
        await _held_line(session, lang),
        translate(lang, "admin.stats_polls"),
    ]
    polls = await deliveries.recent_polls(session)
    lines.extend(
        translate(
            lang,
            "admin.stats_poll",
            source=poll.source,
            when=_when(poll.last_polled_at),
            status=poll.last_status or "-",
            error=poll.last_error or "",
        )
        for poll in polls
    )
    if not polls:
        lines.append(translate(lang, "admin.stats_none"))
    lines.append(translate(lang, "admin.stats_errors"))
    errors = await deliveries.recent_errors(session)
    lines.extend(
        translate(
            lang,
            "admin.stats_error",
            chat=str(row.chat_id),
            date=row.digest_date.isoformat(),
            state=row.state,
            error=row.last_error or "",
        )
        for row in errors
    )
    if not errors:
        lines.append(translate(lang, "admin.stats_none"))
    return "\n".join(lines)


async def _held_line(session: AsyncSession, lang: Lang) -> str:
    """Revisions held back (they would have lost most of their day's papers), newest days."""
    held = await held_revisions(session)
    days = ", ".join(dict.fromkeys(info.date.isoformat() for info in held[:5]))
    return translate(lang, "admin.stats_held", count=len(held), days=days or "-")


async def _summaries_line(session: AsyncSession, lang: Lang) -> str:
    """Generated summaries: written, failed (of which rejected), tokens spent."""
    found = await summary_stats(session)
    return translate(
        lang,
        "admin.stats_summaries",
        done=found.done,
        failed=found.failed,
        rejected=found.rejected,
        prompt=found.prompt_tokens,
        completion=found.completion_tokens,
    )


async def _keywords_line(session: AsyncSession, lang: Lang) -> str:
    """Papers the model gave search keywords, of all archived (`paperboy keywords` fills in)."""
    covered, papers = await keyword_coverage(session)
    return translate(lang, "admin.stats_keywords", covered=covered, papers=papers)


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins only)."""
    services = get_services(context)
    if not is_admin(update, services):
        await _refuse(update, context)
        return
    lang = await chat_language(update, context)
    async with services.sessions() as session:
        text = await stats_text(session, lang)
    assert update.effective_message is not None
    await update.effective_message.reply_text(text)


def parse_resend(args: list[str]) -> tuple[int, dt.date] | None:
    """`<chat_id> <YYYY-MM-DD>`, or None when malformed."""
    if len(args) != 2:
        return None
    try:
        return int(args[0]), dt.date.fromisoformat(args[1])
    except ValueError:
        return None


def _reset_values(now: dt.datetime) -> dict[str, Any]:
    """Columns that make a row go out again from its first message."""
    return {
        "state": "pending",
        "message_ids": [],
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_by": None,
        "lease_until": None,
        "last_error": None,
        "updated_at": now,
    }


async def resend_rows(
    session: AsyncSession, *, services: Services, chat_id: int, day: dt.date
) -> str:
    """Resend a chat's rows for a day, or queue a fresh digest row; the reply's message key.

    Rows with messages go out again from their first message (a row being sent is left alone);
    rows of an empty selection stay as they are. A day the chat has no row for gets a new row
    composed from the day's digest with the chat's current settings.
    """
    now = services.clock()
    rows = await deliveries.chat_deliveries(session, chat_id=chat_id, digest_date=day)
    if rows:
        again = [row for row in rows if row.messages and row.state != "sending"]
        if not again:
            busy = any(row.state == "sending" for row in rows)
            return "admin.resend_busy" if busy else "admin.resend_empty"
        changes = [deliveries.RowChange(row.id, _reset_values(now)) for row in again]
        await deliveries.apply_changes(session, changes=changes)
        return "admin.resend_done"
    chat = await chats.get_chat(session, chat_id=chat_id)
    if chat is None:
        return "admin.resend_unknown_chat"
    info = await digest_for_date(session, date=day)
    if info is None:
        return "admin.resend_no_digest"
    papers = await day_papers(session, date=day)
    planned = plan_row(
        chat=chat,
        date=day,
        papers=papers,
        digest_id=info.id,
        kind="digest",
        seq=0,
        now=now,
        default_language=services.settings.default_language,
    )
    queued = await queue_row(session, planned)
    return "admin.resend_queued" if queued.chosen else "admin.resend_empty"


async def resend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resend <chat_id> <YYYY-MM-DD>: send a chat's rows for a day again (admins only).

    A row already sent is sent again: an admin asked for it explicitly.
    """
    services = get_services(context)
    if not is_admin(update, services):
        await _refuse(update, context)
        return
    lang = await chat_language(update, context)
    assert update.effective_message is not None
    parsed = parse_resend(list(context.args or ()))
    if parsed is None:
        await update.effective_message.reply_text(translate(lang, "admin.resend_usage"))
        return
    chat_id, day = parsed
    async with services.sessions.begin() as session:
        key = await resend_rows(session, services=services, chat_id=chat_id, day=day)
    await update.effective_message.reply_text(
        translate(lang, key, chat=str(chat_id), date=day.isoformat())
    )


async def _download(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bytes | None:
    """The uploaded document's bytes (None when too large)."""
    assert update.effective_message is not None
    document = update.effective_message.document
    assert document is not None
    if document.file_size is not None and document.file_size > MAX_DOCUMENT:
        return None
    file = await context.bot.get_file(document.file_id)
    return bytes(await file.download_as_bytearray())


async def ingest_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A digest file sent by an admin is parsed, stored and observed for delivery."""
    services = get_services(context)
    if not is_admin(update, services):
        await _refuse(update, context)
        return
    lang = await chat_language(update, context)
    message = update.effective_message
    assert message is not None
    assert message.document is not None
    name = message.document.file_name or "document"
    try:
        data = await _download(update, context)
    except TelegramError as exc:
        log.warning("could not download an admin's document: %s", type(exc).__name__)
        data = None
    if data is None:
        await message.reply_text(translate(lang, "admin.ingest_unreadable", file=name))
        return
    await message.reply_text(await ingest_bytes(services, data, name=name, lang=lang))


async def ingest_bytes(services: Services, data: bytes, *, name: str, lang: Lang) -> str:
    """Parse and store an uploaded digest; the summary (or the error) to reply with."""
    try:
        digest = parse_digest(data.decode("utf-8-sig"), source=name)
    except UnicodeDecodeError:
        return translate(lang, "admin.ingest_unreadable", file=name)
    except DigestError as exc:
        return translate(lang, "admin.ingest_failed", file=name, line=exc.line, error=exc.message)
    now = services.clock()
    async with services.sessions.begin() as session:
        result = await store_digest(session, digest=digest, source=f"upload:{name}", now=now)
        await deliveries.observe_day(session, date=digest.date, now=now)
    return translate(
        lang,
        "admin.ingest_done",
        file=name,
        date=digest.date.isoformat(),
        status=result.status,
        papers=result.papers,
        new_papers=result.new_papers,
        issues=len(digest.errors),
    )


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("stats", stats, filters=COMMAND_UPDATES),
    CommandHandler("resend", resend, filters=COMMAND_UPDATES),
    # Only private chats: in groups people share files all the time and need no refusal.
    MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, ingest_document),
]
