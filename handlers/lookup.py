"""Look-ups: /today, /digest, /paper, /author and /search (with paginated results)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import zoneinfo
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.digest.models import Paper
from bot.digest.refs import parse_paper_ref
from bot.edition.buttons import digest_keyboard, save_buttons, save_keyboard
from bot.edition.selection import ChatFilters, select_papers
from bot.i18n import Lang, translate
from bot.render import pack_blocks, render_digest, render_paper, render_paper_line
from bot.services import Services, get_expander, get_services
from handlers.cache import cached
from handlers.common import COMMAND_UPDATES, arguments, chat_language, shorten
from handlers.errors import UserError
from storage import author_search, chats, papers, search
from storage.analysis import parse_query
from storage.models import Author
from storage.names import normalize_name

PAGE_SIZE = 5
MAX_RESULTS = 50  # ten pages: deeper than anyone pages in a chat
MAX_QUERY = 200  # characters of a query we search for; the rest is noise
AUTHOR_CHOICES = 8
AUTHOR_PAPERS = 10
KEPT_SEARCHES = 20  # per chat: older result messages answer "expired"
SEARCHES_KEY = "searches"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEARCH_DATA = re.compile(r"s:(?P<token>[0-9a-f]{8}):(?P<page>\d{1,3})")
_AUTHOR_DATA = re.compile(r"au:(?P<id>\d{1,18})")
SEARCH_NOOP = "s:noop"


def cut_query(text: str) -> str:
    """Whitespace-normalised `text` cut to `MAX_QUERY` characters at a word boundary.

    A word cut in half would match nothing, or something else (`transformer` → `transfo`);
    only a single word longer than that is cut inside.
    """
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY:
        return text
    head = text[: MAX_QUERY + 1]
    return head[:-1] if head.endswith(" ") else head.rsplit(" ", 1)[0][:MAX_QUERY]


def query_text(context: ContextTypes.DEFAULT_TYPE) -> str:
    """The command's arguments as a query (`cut_query`)."""
    return cut_query(arguments(context))


def as_paper(info: papers.PaperInfo) -> Paper:
    """A stored paper's latest metadata (votes, HF details; no Korean summary) as a `Paper`."""
    return Paper(
        arxiv_id=info.arxiv_id,
        title=info.title,
        link=info.link,
        votes=info.latest_votes,
        authors=info.authors,
        authors_truncated=info.authors_truncated,
        abstract=info.abstract,
        ai_summary=info.ai_summary,
        ai_keywords=info.ai_keywords,
        github_repo=info.github_repo,
        github_stars=info.github_stars,
        project_page=info.project_page,
        num_comments=info.num_comments,
        submitter=info.submitter,
        organization=info.organization,
    )


def chat_filters(row: chats.Chat | None) -> ChatFilters:
    """The chat's delivery filters (the defaults for a chat that never set any)."""
    if row is None:
        return ChatFilters()
    return ChatFilters(
        top_n=row.top_n,
        min_votes=row.min_votes,
        include_keywords=tuple(row.include_keywords or ()),
        exclude_keywords=tuple(row.exclude_keywords or ()),
        followed_authors=tuple(row.followed_authors or ()),
    )


async def _chat_row(services: Services, update: Update) -> chats.Chat | None:
    """This chat's settings row, if it has one."""
    assert update.effective_chat is not None
    async with services.sessions() as session:
        return await chats.get_chat(session, chat_id=update.effective_chat.id)


async def _reply(
    update: Update, texts: Sequence[str], *, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Send `texts` in order, without link previews; the keyboard goes on the last one."""
    assert update.effective_message is not None
    for number, text in enumerate(texts, 1):
        markup = keyboard if number == len(texts) else None
        await update.effective_message.reply_text(
            text, reply_markup=markup, link_preview_options=NO_PREVIEW
        )


DigestRead = tuple[papers.DigestInfo, list[Paper]] | None


async def _load_digest(session: AsyncSession, day: dt.date | None) -> DigestRead:
    """A day's digest (the latest when `day` is None) and its papers, or None."""
    if day is None:
        info = await papers.latest_digest(session)
    else:
        info = await papers.digest_for_date(session, date=day)
    if info is None:
        return None
    return info, await papers.day_papers(session, date=info.date)


async def _send_digest(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    found: tuple[papers.DigestInfo, list[Paper]],
    row: chats.Chat | None,
) -> None:
    """Send a stored digest exactly as this chat would receive it (its /settings filters)."""
    info, entries = found
    filters = chat_filters(row)
    shown = select_papers(entries, filters)
    if not shown:
        raise UserError("lookup.digest_filtered_empty", date=info.date.isoformat())
    lang = await chat_language(update, context)
    header = None
    if len(shown) < len(entries):
        header = translate(lang, "lookup.digest_count", shown=len(shown), total=len(entries))
    texts = render_digest(
        shown,
        date=info.date,
        lang=lang,
        header=header,
        followed_authors=frozenset(filters.followed_authors),
    )
    await _reply_digest(update, texts)


async def _reply_digest(update: Update, texts: Sequence[str]) -> None:
    """Send digest messages, each with ⭐ buttons for its papers."""
    assert update.effective_message is not None
    for text in texts:
        await update.effective_message.reply_text(
            text, reply_markup=digest_keyboard(text), link_preview_options=NO_PREVIEW
        )


async def today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/today: the latest digest as this chat receives it."""
    found = await cached(context, ("digest", None), lambda session: _load_digest(session, None))
    if found is None:
        raise UserError("lookup.no_digests")
    await _send_digest(update, context, found, await _chat_row(get_services(context), update))


def parse_day(text: str) -> dt.date | None:
    """A YYYY-MM-DD date, or None when `text` is not one."""
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _local_today(services: Services, row: chats.Chat | None) -> dt.date:
    """Today's date in the chat's time zone (the configured default for a new chat)."""
    name = row.timezone if row else services.settings.default_timezone
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(services.settings.default_timezone)
    return services.clock().astimezone(zone).date()


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest YYYY-MM-DD: that day's digest as this chat receives it."""
    text = arguments(context)
    if not text:
        raise UserError("lookup.digest_usage")
    day = parse_day(text)
    if day is None:
        raise UserError("lookup.bad_date", text=shorten(text))
    services = get_services(context)
    row = await _chat_row(services, update)
    if day > _local_today(services, row):
        raise UserError("lookup.future_date", date=day.isoformat())
    found = await cached(context, ("digest", day), lambda session: _load_digest(session, day))
    if found is None:
        raise UserError("lookup.no_digest_for_date", date=day.isoformat())
    await _send_digest(update, context, found, row)


async def featured_paper(
    session: AsyncSession, *, arxiv_id: str, days: Sequence[papers.PaperDay]
) -> Paper | None:
    """The paper as its days give it to chats (`day_papers`): the newest day that has a Korean
    summary for it, else its newest day; None when it was on no day."""
    newest: Paper | None = None
    for day in sorted({day.date for day in days}, reverse=True):
        found = await papers.day_papers(session, date=day)
        entry = next((paper for paper in found if paper.arxiv_id == arxiv_id), None)
        if entry is not None and entry.summary:
            return entry
        newest = newest or entry
    return newest


PaperRead = tuple[Paper, list[tuple[dt.date, int | None]]] | None


async def _load_paper(session: AsyncSession, arxiv_id: str) -> PaperRead:
    """A paper's latest metadata with its Korean summary and the days it was featured, or None."""
    info = await papers.get_paper(session, arxiv_id=arxiv_id)
    if info is None:
        return None
    days = await papers.paper_days(session, arxiv_id=arxiv_id)
    entry = await featured_paper(session, arxiv_id=arxiv_id, days=days)
    shown = as_paper(info)
    if entry is not None:
        korean = {"summary": entry.summary, "summary_source": entry.summary_source}
        shown = shown.model_copy(update=korean)
    return shown, [(day.date, day.votes) for day in days]


def provenance(lang: Lang, source: str | None) -> str:
    """Where a Korean summary came from, in the chat's language (HTML)."""
    if source is None:
        return translate(lang, "lookup.summary_source_none")
    model = source.removeprefix("generated:")
    if model != source:
        return translate(lang, "lookup.summary_source_generated", model=model)
    return translate(lang, "lookup.summary_source_archive", source=source)


async def show_paper(update: Update, context: ContextTypes.DEFAULT_TYPE, arxiv_id: str) -> None:
    """Reply with one paper: both summaries, votes, authors, links and the days it was featured."""
    found = await cached(context, ("paper", arxiv_id), lambda s: _load_paper(s, arxiv_id))
    if found is None:
        raise UserError("lookup.paper_not_found", arxiv_id=arxiv_id)
    shown, days = found
    lang = await chat_language(update, context)
    source = provenance(lang, shown.summary_source)
    keyboard = save_keyboard([(translate(lang, "saved.button"), shown.arxiv_id)])
    texts = render_paper(shown, days=days, lang=lang, provenance=source)
    await _reply(update, texts, keyboard=keyboard)


async def paper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/paper <arXiv id or arxiv.org / huggingface.co/papers URL>."""
    text = arguments(context)
    if not text:
        raise UserError("lookup.paper_usage")
    arxiv_id = parse_paper_ref(text)
    if arxiv_id is None:
        raise UserError("lookup.bad_paper_ref", text=shorten(text))
    await show_paper(update, context, arxiv_id)


def _result_lines(found: Sequence[papers.PaperInfo], *, start: int, lang: Lang) -> list[str]:
    """Numbered one-line results."""
    return [
        render_paper_line(as_paper(info), rank=rank, lang=lang)
        for rank, info in enumerate(found, start)
    ]


AuthorRead = tuple[str, int, list[papers.PaperInfo]] | None


async def _load_author(session: AsyncSession, author_id: int) -> AuthorRead:
    """An author's name, paper count and best `AUTHOR_PAPERS` papers, or None when there is no
    such id. Only those are kept: a prolific author's whole list, cached, was ~30 KB an entry."""
    found = await session.get(Author, author_id)
    if found is None:
        return None
    # One person stored under names that fold alike (`Björn Ommer`, `Bjorn Ommer`): all papers.
    spellings = await author_search.spelling_ids(session, author_id=author_id)
    listed = await papers.author_papers(session, author_ids=spellings)
    return found.name, len(listed), listed[:AUTHOR_PAPERS]


async def _author_page(
    context: ContextTypes.DEFAULT_TYPE, author_id: int, lang: Lang
) -> list[str] | None:
    """An author's best papers as messages, or None when there is no such author."""
    found = await cached(context, ("author", author_id), lambda s: _load_author(s, author_id))
    if found is None:
        return None
    name, total, shown = found
    header = translate(lang, "lookup.author_header", name=name, shown=len(shown), total=total)
    lines = _result_lines(shown, start=1, lang=lang)
    return pack_blocks([header, "\n".join(lines)])


def _obvious(hits: Sequence[author_search.AuthorHit], query: str) -> author_search.AuthorHit | None:
    """The one author meant: the only match, or the only one whose whole name was typed."""
    if len(hits) == 1:
        return hits[0]
    wanted = normalize_name(query)
    exact = [hit for hit in hits if normalize_name(hit.name) == wanted]
    return exact[0] if len(exact) == 1 else None


def _author_keyboard(hits: Sequence[author_search.AuthorHit]) -> InlineKeyboardMarkup:
    """One button per matching author, with their paper count."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"{shorten(hit.name, 48)} ({hit.paper_count})",
                    callback_data=f"au:{hit.author_id}",
                )
            ]
            for hit in hits
        ]
    )


async def author(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/author <name>: the author's papers, or buttons when several authors match."""
    query = query_text(context)
    if not query:
        raise UserError("lookup.author_usage")
    hits = await cached(
        context,
        ("authors", query),
        lambda session: author_search.search_authors(session, query=query, limit=AUTHOR_CHOICES),
    )
    if not hits:
        raise UserError("lookup.author_not_found", name=shorten(query))
    lang = await chat_language(update, context)
    chosen = _obvious(hits, query)
    if chosen is None:
        text = translate(lang, "lookup.author_choose", name=shorten(query))
        await _reply(update, [text], keyboard=_author_keyboard(hits))
        return
    texts = await _author_page(context, chosen.author_id, lang)
    await _reply(update, texts or [])


async def _expired(update: Update, lang: Lang) -> None:
    """The polite answer to a stale or forged button."""
    assert update.callback_query is not None
    await update.callback_query.answer(translate(lang, "lookup.button_expired"), show_alert=True)


async def author_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An author button: replace the choice with that author's papers."""
    query = update.callback_query
    assert query is not None
    lang = await chat_language(update, context)
    match = _AUTHOR_DATA.fullmatch(query.data or "")
    texts = await _author_page(context, int(match["id"]), lang) if match else None
    if not texts:
        await _expired(update, lang)
        return
    await query.answer()
    await query.edit_message_text(texts[0], link_preview_options=NO_PREVIEW)
    if query.message is not None:
        for text in texts[1:]:
            await query.message.chat.send_message(text, link_preview_options=NO_PREVIEW)


def _remember_search(context: ContextTypes.DEFAULT_TYPE, query: str) -> str:
    """Keep `query` under a short random token for the page buttons (a few per chat)."""
    assert context.chat_data is not None
    searches: dict[str, str] = context.chat_data.setdefault(SEARCHES_KEY, {})
    while len(searches) >= KEPT_SEARCHES:
        searches.pop(next(iter(searches)))
    token = secrets.token_hex(4)
    searches[token] = query
    return token


def _page_keyboard(token: str, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """◀ page/pages ▶ buttons (None when everything fits on one page)."""
    if pages <= 1:
        return None
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("◀", callback_data=f"s:{token}:{page - 1}"))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=SEARCH_NOOP))
    if page < pages - 1:
        row.append(InlineKeyboardButton("▶", callback_data=f"s:{token}:{page + 1}"))
    return InlineKeyboardMarkup([row])


def _with_saves(
    keyboard: InlineKeyboardMarkup | None, ids: Sequence[str], start: int
) -> InlineKeyboardMarkup | None:
    """A result page's ⭐ buttons (numbered like its lines) above its page buttons."""
    rows = save_buttons([(str(rank), arxiv_id) for rank, arxiv_id in enumerate(ids, start)])
    rows.extend(list(row) for row in (keyboard.inline_keyboard if keyboard else ()))
    return InlineKeyboardMarkup(rows) if rows else None


@dataclasses.dataclass(frozen=True, slots=True)
class SearchRead:
    """What a results page needs: how many hits (up to MAX_RESULTS + 1), how many of them hold
    every word of the query (they rank first: the rest hold part of them), the page's papers."""

    count: int
    whole: int
    found: list[papers.PaperInfo]


async def _load_search(
    session: AsyncSession, query: str, page: int, expansion: Sequence[str] = ()
) -> SearchRead:
    """The counts of `query`'s results and the papers of one page."""
    hits = await search.search_papers(
        session, query=query, limit=MAX_RESULTS + 1, expansion=expansion
    )
    shown = hits[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    found = await papers.get_papers(session, arxiv_ids=[hit.arxiv_id for hit in shown])
    named = await search.filter_author_names(session, query) if found else set()
    return SearchRead(
        count=len(hits),
        whole=sum(not hit.partial for hit in hits),
        found=[_named_first(info, named) for info in found],
    )


def _named_first(info: papers.PaperInfo, named: set[str]) -> papers.PaperInfo:
    """The paper with the authors an `author:` filter matched right after its first author: a
    result line shows two names, and `author:li` should say which Li wrote it (the first
    author stays first: it is whose paper it is)."""
    lead, others = info.authors[:1], info.authors[1:]
    matched = [name for name in others if normalize_name(name) in named]
    if not matched:
        return info
    rest = [name for name in others if normalize_name(name) not in named]
    return dataclasses.replace(info, authors=(*lead, *matched, *rest))


async def _search_page(
    context: ContextTypes.DEFAULT_TYPE, query: str, page: int, lang: Lang
) -> tuple[str, int, list[str]] | None:
    """One page of results for `query`, the page count and the page's ids; None when there is
    no such page."""
    # A Korean query's meaning in English phrases, when the operator's model gives them (asked
    # once per query, cached; a slow or failing endpoint only leaves them out).
    expander = get_expander(context)
    expansion = tuple(await expander.expand(query)) if expander is not None else ()
    key = ("search", query, page, expansion)
    read = await cached(context, key, lambda s: _load_search(s, query, page, expansion))
    if not read.found:
        return None
    count = read.count
    pages = -(-min(count, MAX_RESULTS) // PAGE_SIZE)
    label = f"{MAX_RESULTS}+" if count > MAX_RESULTS else str(count)
    template = "lookup.search_header_one" if count == 1 else "lookup.search_header"
    header = translate(lang, template, query=shorten(query), count=label)
    # Say when no paper holds every word, or where those holding only some of them begin: a
    # reader should not take `트리 탐색`'s *Exploration* papers for tree search ones.
    if read.whole == 0:
        header += "\n" + translate(lang, "lookup.search_partial_only")
    lines = _result_lines(read.found, start=page * PAGE_SIZE + 1, lang=lang)
    first_partial = read.whole - page * PAGE_SIZE  # its index on this page
    if read.whole and 0 <= first_partial < len(lines):
        lines.insert(first_partial, translate(lang, "lookup.search_partial_below"))
    # Five clipped lines always fit one message: a page is edited in place, never split.
    return pack_blocks([header, "\n".join(lines)])[0], pages, [i.arxiv_id for i in read.found]


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search <words>: the first page of results, with page buttons."""
    query = query_text(context)
    if not query:
        raise UserError("lookup.search_usage")
    unknown = parse_query(query).unknown
    if unknown:
        raise UserError("lookup.bad_filter", text=shorten(unknown[0]))
    lang = await chat_language(update, context)
    result = await _search_page(context, query, 0, lang)
    if result is None:
        raise UserError("lookup.search_empty", query=shorten(query))
    text, pages, ids = result
    keyboard = _page_keyboard(_remember_search(context, query), 0, pages) if pages > 1 else None
    await _reply(update, [text], keyboard=_with_saves(keyboard, ids, start=1))


async def search_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A page button: show that page in place, or say politely that the button expired."""
    callback = update.callback_query
    assert callback is not None
    if callback.data == SEARCH_NOOP:
        await callback.answer()
        return
    lang = await chat_language(update, context)
    match = _SEARCH_DATA.fullmatch(callback.data or "")
    searches = (context.chat_data or {}).get(SEARCHES_KEY, {})
    query = searches.get(match["token"]) if match else None
    result = None
    if match is not None and query is not None:
        result = await _search_page(context, query, int(match["page"]), lang)
    if match is None or result is None:
        await _expired(update, lang)
        return
    await callback.answer()
    text, pages, ids = result
    page = int(match["page"])
    keyboard = _with_saves(_page_keyboard(match["token"], page, pages), ids, page * PAGE_SIZE + 1)
    await callback.edit_message_text(text, reply_markup=keyboard, link_preview_options=NO_PREVIEW)


async def unclaimed_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press no other button handler takes (forged data, a retired keyboard): a polite answer."""
    claimed = any(
        isinstance(handler, CallbackQueryHandler)
        and handler is not UNCLAIMED
        and handler.check_update(update)
        for group in context.application.handlers.values()
        for handler in group
    )
    if not claimed:
        await _expired(update, await chat_language(update, context))


UNCLAIMED: CallbackQueryHandler[Any, Any] = CallbackQueryHandler(unclaimed_button)
HANDLERS: list[BaseHandler[Any, Any, Any] | tuple[BaseHandler[Any, Any, Any], int]] = [
    CommandHandler("today", today, filters=COMMAND_UPDATES),
    CommandHandler("digest", digest, filters=COMMAND_UPDATES),
    CommandHandler("paper", paper, filters=COMMAND_UPDATES),
    CommandHandler("author", author, filters=COMMAND_UPDATES),
    CommandHandler("search", search_command, filters=COMMAND_UPDATES),
    CallbackQueryHandler(search_page, pattern=r"^s:"),
    CallbackQueryHandler(author_chosen, pattern=r"^au:"),
    # In its own group, so it sees every press; it answers only those nobody else handles.
    (UNCLAIMED, 1),
]
