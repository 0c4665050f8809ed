"""/trends <topic> [vs <topic>…]: a PNG chart of matching papers per month over the archive."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.i18n import Lang, Markup, translate
from handlers.cache import cached
from handlers.common import COMMAND_UPDATES, arguments, chat_language, shorten
from handlers.errors import UserError
from handlers.lookup import cut_query
from storage.trends import EmptyTopic, topic_months

MAX_TOPICS = 4
LEGEND = 40  # characters of a topic shown in the legend and the caption
_VS = re.compile(r"\s+(?:vs\.?|versus|대)\s+", re.IGNORECASE)

Counts = dict[str, dict[str, int]]


def parse_topics(text: str) -> list[str]:
    """`a vs b vs c` → ["a", "b", "c"], each cut like a /search query; blanks, repeats dropped."""
    found = [cut_query(part) for part in _VS.split(f" {text} ")]
    return list(dict.fromkeys(topic for topic in found if topic))


async def load_counts(session: AsyncSession, topics: list[str]) -> Counts:
    """{topic: {"YYYY-MM": papers}}; a topic with nothing searchable is a UserError."""
    try:
        found = await topic_months(session, topics=topics)
    except EmptyTopic as empty:
        raise UserError("trends.empty_topic", topic=shorten(empty.topic, LEGEND)) from None
    return dict(zip(topics, found, strict=True))


def caption(counts: Counts, lang: Lang) -> str:
    """One line: each topic's total over the archive."""
    parts = [
        translate(lang, "trends.count", topic=shorten(topic, LEGEND), count=sum(months.values()))
        for topic, months in counts.items()
    ]
    return translate(lang, "trends.caption", counts=Markup(" · ".join(parts)))


async def chart(counts: Counts, lang: Lang) -> bytes:
    """The PNG, drawn in a worker thread: ~0.1 s of CPU the event loop should not wait on."""
    series = {shorten(topic, LEGEND): months for topic, months in counts.items()}
    title = translate(lang, "trends.title")
    y_label = translate(lang, "trends.y_label")
    from bot.render.chart import render_trend_chart  # matplotlib (~30 MB): loaded on first use

    return await asyncio.to_thread(render_trend_chart, series, title=title, y_label=y_label)


async def _rendered(
    context: ContextTypes.DEFAULT_TYPE, topics: list[str], lang: Lang
) -> tuple[bytes, str]:
    """The chart and its caption, kept until the archive changes."""

    async def load(session: AsyncSession) -> tuple[bytes, str]:
        counts = await load_counts(session, topics)
        if not any(counts.values()):
            listed = ", ".join(f"“{shorten(topic, LEGEND)}”" for topic in topics)
            raise UserError("trends.no_matches", topics=listed)
        return await chart(counts, lang), caption(counts, lang)

    return await cached(context, ("trends", tuple(topics), lang), load)


async def trends(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/trends diffusion vs agent: the chart, with the totals as its caption."""
    topics = parse_topics(arguments(context))
    if not topics:
        raise UserError("trends.usage")
    if len(topics) > MAX_TOPICS:
        raise UserError("trends.too_many")
    lang = await chat_language(update, context)
    assert update.effective_message is not None
    await update.effective_message.reply_chat_action(ChatAction.UPLOAD_PHOTO)
    png, text = await _rendered(context, topics, lang)
    await update.effective_message.reply_photo(png, caption=text, filename="trends.png")


HANDLERS: list[BaseHandler[Any, Any, Any] | tuple[BaseHandler[Any, Any, Any], int]] = [
    CommandHandler("trends", trends, filters=COMMAND_UPDATES),
]
