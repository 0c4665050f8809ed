"""Inline mode: `@bot <query>` offers matching papers as articles to share in any chat."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, ContextTypes, InlineQueryHandler

from bot.digest.models import Paper
from bot.edition.buttons import save_keyboard
from bot.edition.selection import ChatFilters, select_papers
from bot.i18n import Lang, translate
from bot.render import render_inline_article
from bot.services import get_expander
from handlers.cache import cached
from handlers.common import chat_language
from handlers.lookup import as_paper, cut_query
from storage import papers, search

PAGE_SIZE = 20  # Telegram allows 50 results per answer; 20 keeps answers small and quick
MAX_OFFSET = 200  # deeper than anyone scrolls an inline list
SEARCH_CACHE = 300  # the archive changes once a day; five minutes is fresh enough
LATEST_CACHE = 60  # the empty query shows the newest digest, which may have just arrived
SUBSCRIBE_PAYLOAD = "sub"  # /start sub: the deep link that subscribes the private chat
_OFFSET = re.compile(r"\d{1,3}")


def parse_offset(text: str) -> int | None:
    """The page offset Telegram echoes back, validated (None when forged or out of range)."""
    if not text:
        return 0
    if not _OFFSET.fullmatch(text) or int(text) > MAX_OFFSET:
        return None
    return int(text)


async def _latest(session: AsyncSession, offset: int) -> list[Paper]:
    """A page of the newest digest's papers, most votes first (summaries included)."""
    info = await papers.latest_digest(session)
    found = await papers.day_papers(session, date=info.date) if info else []
    ranked = select_papers(found, ChatFilters(top_n=len(found)))
    return ranked[offset : offset + PAGE_SIZE]


async def _load(
    session: AsyncSession, query: str, offset: int, expansion: Sequence[str] = ()
) -> list[tuple[Paper, bool]]:
    """One page of papers for `query` (the latest digest's top papers when it is empty), each
    with whether it holds only some of the query's words (`SearchHit.partial`); `expansion`:
    the model's phrases for the query, when /search already asked for them."""
    if not query:
        return [(paper, False) for paper in await _latest(session, offset)]
    hits = await search.search_papers(
        session, query=query, limit=PAGE_SIZE, offset=offset, expansion=expansion
    )
    partial = {hit.arxiv_id for hit in hits if hit.partial}
    found = await papers.get_papers(session, arxiv_ids=[hit.arxiv_id for hit in hits])
    return [(as_paper(info), info.arxiv_id in partial) for info in found]


def _article(paper: Paper, lang: Lang, *, partial: bool = False) -> InlineQueryResultArticle:
    """One result: title and description in the list, the paper's message when chosen. A
    result holding only some of the query's words says so first in its description (an
    inline list has no room for the chat's divider line)."""
    article = render_inline_article(paper, lang=lang)
    marker = translate(lang, "inline.partial") + "\n" if partial else ""
    return InlineQueryResultArticle(
        id=paper.arxiv_id[:64],
        title=article.title,
        description=marker + article.description,
        input_message_content=InputTextMessageContent(
            article.text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        url=f"https://arxiv.org/abs/{paper.arxiv_id}",
        reply_markup=save_keyboard([(translate(lang, "saved.button"), paper.arxiv_id)]),
    )


def results(found: Sequence[tuple[Paper, bool]], lang: Lang) -> list[InlineQueryResultArticle]:
    """Articles for `found` (papers and whether each holds only part of the query), in order."""
    return [_article(paper, lang, partial=partial) for paper, partial in found]


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an inline query with a page of matching papers."""
    inline = update.inline_query
    assert inline is not None
    offset = parse_offset(inline.offset)
    if offset is None:  # forged or past the end: nothing more to show
        await inline.answer([], cache_time=SEARCH_CACHE)
        return
    query = cut_query(inline.query)
    expander = get_expander(context)
    expansion = tuple(await expander.known(query)) if expander is not None and query else ()
    found = await cached(
        context, ("inline", query, offset, expansion), lambda s: _load(s, query, offset, expansion)
    )
    lang = await chat_language(update, context)
    more = len(found) == PAGE_SIZE and offset + PAGE_SIZE <= MAX_OFFSET
    button = None
    if not found and offset == 0:
        text = translate(lang, "inline.no_results")
        button = InlineQueryResultsButton(text=text, start_parameter=SUBSCRIBE_PAYLOAD)
    await inline.answer(
        results(found, lang),
        cache_time=SEARCH_CACHE if query else LATEST_CACHE,
        is_personal=True,  # results are in the user's language
        next_offset=str(offset + PAGE_SIZE) if more else None,
        button=button,
    )


HANDLERS: list[BaseHandler[Any, Any, Any]] = [InlineQueryHandler(inline_query)]
