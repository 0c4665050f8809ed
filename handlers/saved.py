"""Saved papers: the ⭐ button, /saved (paginated, with remove buttons) and /bibtex."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.digest.refs import parse_paper_ref
from bot.edition.buttons import CALLBACK_LIMIT, SAVE_PATTERN, parse_save, save_keyboard
from bot.i18n import Lang, translate
from bot.recommend import FEATURES_KEY, MIN_SAVED
from bot.render import escape, pack_blocks, render_paper_line, utf16_len
from bot.render.bibtex import BibPaper, render_bibtex
from bot.services import Services, get_services
from handlers.common import COMMAND_UPDATES, arguments, chat_language, shorten
from handlers.errors import UserError
from handlers.lookup import NO_PREVIEW, as_paper
from storage import papers, saved

if TYPE_CHECKING:  # scikit-learn (~100 MB) loads on the first ranking, not at start
    from bot.recommend.compute import FeatureCache

PAGE_SIZE = 8
MAX_BIBTEX_IDS = 100  # ids typed after /bibtex: more is a paste accident
INLINE_BIBTEX = 3_500  # characters of BibTeX shown in a message; longer goes as a .bib file
BIB_FILE = "paperboy.bib"
FORYOU_SIZE = 5
LIBRARY_LIMIT = 200  # the newest saves a ranking learns from
_PAGE_DATA = re.compile(r"sp:(?P<page>\d{1,4})")
_REMOVE_DATA = re.compile(r"sx:(?P<page>\d{1,4}):(?P<id>[A-Za-z0-9.\-/]{1,57})")


def _user_id(update: Update) -> int:
    """Who pressed or typed: saves are per user (a channel post has no user)."""
    if update.effective_user is None:
        raise UserError("saved.no_user")
    return update.effective_user.id


async def toggle_saved(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A ⭐ press: save the paper for the presser, or remove it when saved already."""
    query = update.callback_query
    assert query is not None
    arxiv_id = parse_save(query.data)
    if arxiv_id is None:
        raise UserError("lookup.button_expired")
    services, user_id = get_services(context), _user_id(update)
    chat_id = update.effective_chat.id if update.effective_chat else user_id
    async with services.sessions() as session:
        try:
            done = await saved.toggle(
                session, user_id=user_id, arxiv_id=arxiv_id, chat_id=chat_id, now=services.clock()
            )
        except LookupError:
            raise UserError("saved.unknown_paper", arxiv_id=arxiv_id) from None
        except saved.LibraryFull:
            raise UserError("saved.full", limit=saved.MAX_SAVED) from None
        await session.commit()
    lang = await chat_language(update, context)
    key = "saved.added" if done.saved else "saved.removed"
    await query.answer(translate(lang, key, count=done.count))


def _page_keyboard(ids: list[str], page: int, pages: int) -> InlineKeyboardMarkup | None:
    """✖ n buttons to remove each listed paper, then ◀ page/pages ▶."""
    start = page * PAGE_SIZE + 1
    removes = [
        InlineKeyboardButton(f"✖ {start + n}", callback_data=data)
        for n, arxiv_id in enumerate(ids)
        if len((data := f"sx:{page}:{arxiv_id}").encode()) <= CALLBACK_LIMIT
    ]
    rows = [removes[i : i + 4] for i in range(0, len(removes), 4)]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀", callback_data=f"sp:{page - 1}"))
    if pages > 1:
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=f"sp:{page}"))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("▶", callback_data=f"sp:{page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows) if rows else None


def _lines(found: list[papers.PaperInfo], start: int, lang: Lang) -> list[str]:
    """Numbered result lines from `start`."""
    return [
        render_paper_line(as_paper(info), rank=n, lang=lang) for n, info in enumerate(found, start)
    ]


async def _saved_page(
    services: Services, user_id: int, page: int, lang: Lang
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """One page of the user's library (newest first) and its buttons; None when empty."""
    async with services.sessions() as session:
        total = await saved.count_saved(session, user_id=user_id)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages - 1)
        ids = await saved.saved_ids(
            session, user_id=user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
        )
        found = await papers.get_papers(session, arxiv_ids=ids)
    if not found:
        return None
    header = translate(lang, "saved.header", count=total)
    lines = _lines(found, page * PAGE_SIZE + 1, lang)
    text = pack_blocks([header, "\n".join(lines)])[0]
    return text, _page_keyboard([info.arxiv_id for info in found], page, pages)


async def saved_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/saved: the sender's saved papers, newest first, with remove and page buttons."""
    lang = await chat_language(update, context)
    result = await _saved_page(get_services(context), _user_id(update), 0, lang)
    if result is None:
        raise UserError("saved.empty")
    text, keyboard = result
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        text, reply_markup=keyboard, link_preview_options=NO_PREVIEW
    )


async def saved_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A page or ✖ button of /saved: remove when asked, then show the page in place."""
    query = update.callback_query
    assert query is not None
    lang = await chat_language(update, context)
    data = query.data or ""
    match = _PAGE_DATA.fullmatch(data) or _REMOVE_DATA.fullmatch(data)
    if match is None:
        raise UserError("lookup.button_expired")
    services, user_id = get_services(context), _user_id(update)
    answer = None
    if "id" in match.groupdict():
        async with services.sessions() as session:
            removed = await saved.unsave(session, user_id=user_id, arxiv_id=match["id"])
            await session.commit()
        answer = translate(lang, "saved.removed_one" if removed else "saved.not_saved")
    result = await _saved_page(services, user_id, int(match["page"]), lang)
    await query.answer(answer)
    text, keyboard = result or (translate(lang, "saved.empty"), None)
    if not isinstance(query.message, Message) or query.message.text_html != text:
        await query.edit_message_text(text, reply_markup=keyboard, link_preview_options=NO_PREVIEW)


def _bib_paper(info: papers.PaperInfo) -> BibPaper:
    """What a BibTeX entry needs of a stored paper."""
    return BibPaper(info.arxiv_id, info.title, info.authors, info.first_seen.year)


async def _bibtex_ids(update: Update, context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    """The ids typed after /bibtex (checked), else the sender's saved papers."""
    words = arguments(context, limit=4_000).split()
    if len(words) > MAX_BIBTEX_IDS:
        raise UserError("saved.bibtex_too_many", limit=MAX_BIBTEX_IDS)
    if words:
        refs = [parse_paper_ref(word) for word in words]
        bad = [word for word, found in zip(words, refs, strict=True) if found is None]
        if bad:
            raise UserError("lookup.bad_paper_ref", text=shorten(bad[0]))
        return list(dict.fromkeys(i for i in refs if i))
    async with get_services(context).sessions() as session:
        ids = await saved.saved_ids(session, user_id=_user_id(update))
    if not ids:
        raise UserError("saved.bibtex_nothing")
    return ids


async def bibtex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bibtex [ID…]: BibTeX of the given papers or the saved ones; a .bib file when long."""
    ids = await _bibtex_ids(update, context)
    async with get_services(context).sessions() as session:
        found = await papers.get_papers(session, arxiv_ids=ids)
    known = {info.arxiv_id for info in found}
    missing = [i for i in ids if i not in known]
    if missing:
        raise UserError("saved.bibtex_unknown", ids=", ".join(missing[:5]))
    text = render_bibtex(_bib_paper(info) for info in found)
    lang = await chat_language(update, context)
    message = update.effective_message
    assert message is not None
    if utf16_len(text) <= INLINE_BIBTEX:
        await message.reply_text(f"<pre>{escape(text)}</pre>", link_preview_options=NO_PREVIEW)
        return
    caption = translate(lang, "saved.bibtex_caption", count=len(found))
    document = InputFile(text.encode(), filename=BIB_FILE)
    await message.reply_document(document, caption=caption)


def _feature_cache(context: ContextTypes.DEFAULT_TYPE) -> FeatureCache:
    """The application's feature cache (one per bot, shared by every chat)."""
    from bot.recommend.compute import FeatureCache

    cache = context.bot_data.setdefault(FEATURES_KEY, FeatureCache())
    assert isinstance(cache, FeatureCache)
    return cache


async def foryou(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/foryou: the latest digest's papers ranked for the sender's saved papers."""
    services, user_id = get_services(context), _user_id(update)
    async with services.sessions() as session:
        library = await saved.saved_ids(session, user_id=user_id, limit=LIBRARY_LIMIT)
        if len(library) < MIN_SAVED:
            raise UserError("saved.foryou_need_more", count=MIN_SAVED, saved=len(library))
        from bot.recommend.day import rank_day  # scikit-learn: loaded on first use

        ranking = await rank_day(
            session, cache=_feature_cache(context), saved=library, limit=FORYOU_SIZE
        )
        found = await papers.get_papers(
            session, arxiv_ids=[i for i, _ in ranking.ranked] if ranking else []
        )
    if ranking is None or not found:
        raise UserError("saved.foryou_none")
    lang = await chat_language(update, context)
    title = translate(lang, "saved.foryou_title", date=ranking.date.isoformat(), saved=len(library))
    lines = [
        render_paper_line(as_paper(info), rank=n, lang=lang) for n, info in enumerate(found, 1)
    ]
    keyboard = save_keyboard([(str(n), info.arxiv_id) for n, info in enumerate(found, 1)])
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        pack_blocks([title, "\n".join(lines)])[0],
        reply_markup=keyboard,
        link_preview_options=NO_PREVIEW,
    )


HANDLERS: list[BaseHandler[Any, Any, Any] | tuple[BaseHandler[Any, Any, Any], int]] = [
    CommandHandler("saved", saved_command, filters=COMMAND_UPDATES),
    CommandHandler("bibtex", bibtex, filters=COMMAND_UPDATES),
    CommandHandler("foryou", foryou, filters=COMMAND_UPDATES),
    CallbackQueryHandler(toggle_saved, pattern=SAVE_PATTERN),
    CallbackQueryHandler(saved_button, pattern=r"^s[px]:"),
]
