"""/settings: an inline-keyboard menu (edited in place) and `/settings <name> <value>` arguments.

Buttons pick common values and remove list entries; typed values (any time, any IANA zone,
keywords, author names) are arguments: `/settings time 07:30`, `/settings include 강화학습`.
Arguments work the same in private chats, groups and channels, with no conversation state.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.edition.selection import keyword_key
from bot.i18n import Key, Lang, translate
from bot.recommend import MIN_SAVED
from bot.services import Services, get_services
from handlers.common import (
    COMMAND_UPDATES,
    arguments,
    chat_language,
    ensure_chat,
    is_chat_admin,
    remember_language,
    shorten,
)
from handlers.errors import UserError, plain_text
from storage import chats
from storage.models import Author, PaperAuthor
from storage.names import normalize_name

TIMES = ("06:00", "07:00", "08:00", "09:00", "10:00", "12:00", "18:00", "21:00")
ZONES = (
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "UTC",
)
# Delivery days as ISO weekday digits (1 = Monday), the form `chats.weekdays` stores.
EVERY_DAY, WEEKDAYS, WEEKENDS = "1234567", "12345", "67"
DAY_PRESETS = {
    EVERY_DAY: ("all", "every", "every day", "everyday", "daily", "매일"),
    WEEKDAYS: ("weekdays", "workdays", "평일", "주중"),
    WEEKENDS: ("weekends", "weekend", "주말"),
}
_ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES = {
    name: number
    for number, (english, korean) in enumerate(zip(_ENGLISH_DAYS, "월화수목금토일", strict=True), 1)
    for name in (str(number), english, english[:3], korean, korean + "요일")
}
TOP_CHOICES = (3, 5, 10, 15, 20, 30)
VOTE_CHOICES = (0, 5, 10, 20, 50, 100)
MAX_TOP = 50
MAX_VOTES = 10_000
MAX_ITEM = 60  # characters of one keyword or author name
MAX_ITEMS = 20  # entries per list
LISTS = {"i": "include_keywords", "x": "exclude_keywords", "a": "followed_authors"}
LIST_NAMES = {
    "include_keywords": "include",
    "exclude_keywords": "exclude",
    "followed_authors": "authors",
}
_TIME = re.compile(r"(?P<hour>\d{1,2})(?::?(?P<minute>\d{2}))?")
CADENCE_WORDS = {
    "daily": ("daily", "day", "매일", "일간"),
    "weekly": ("weekly", "week", "매주", "주간"),
    "both": ("both", "all", "둘다", "둘 다", "모두"),
}
SWITCH_WORDS = {
    True: ("on", "yes", "true", "1", "켜기", "켬"),
    False: ("off", "no", "false", "0", "끄기", "끔"),
}
GROUP_TYPES = ("group", "supergroup")  # where journal-club polls are allowed
# Callback data: `st:<view>` opens a view, `st:<view>:<value>` sets a value,
# `st:rm:<list>:<index>:<hash>` removes an entry (the hash catches a list changed meanwhile).
_CALLBACK = re.compile(
    r"st:(?:(?P<view>[mtznvlkadwcpf])(?::(?P<value>[0-9a-z]{1,7}))?"
    r"|rm:(?P<list>[ixa]):(?P<index>\d{1,2}):(?P<hash>[0-9a-f]{6}))"
)


@dataclass(frozen=True, slots=True)
class Change:
    """Columns to update and the confirmation to show (an i18n key and its parameters)."""

    columns: dict[str, Any]
    key: str
    params: dict[str, object]
    added: tuple[str, ...] = ()  # entries a list gained (authors are checked against the archive)


# --- Parsing values (shared by buttons and arguments) ---


def parse_time(text: str) -> str | None:
    """`7`, `7:30`, `07:30` or `0730` as `HH:MM`; None when it is not a time of day."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    """Every IANA zone name, keyed case-insensitively."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def parse_zone(text: str) -> str | None:
    """The canonical IANA name for `text` (any case), or None."""
    return _zones_by_folded_name().get(text.strip().casefold())


def parse_days(text: str) -> str | None:
    """Delivery days as ISO weekday digits: `weekdays`, `평일`, `mon-fri`, `월수금`, `1 3 5`.

    Days may be names (`mon`, `monday`, `월`, `월요일`), digits (1 = Monday) or ranges
    (`mon-fri`, `월-금`); None when any part is not a day.
    """
    folded = " ".join(text.casefold().split())
    for days, names in DAY_PRESETS.items():
        if folded in names:
            return days
    chosen: set[int] = set()
    for part in re.split(r"[\s,/]+", folded):
        if "-" in part:
            ends = [_DAY_NAMES.get(end) for end in part.split("-")]
            if len(ends) != 2 or ends[0] is None or ends[1] is None:
                return None
            first, last = ends[0], ends[1]
            chosen.update(range(first, last + 1) if first <= last else range(first, last + 8))
        elif part in _DAY_NAMES:
            chosen.add(_DAY_NAMES[part])
        elif part:  # a run of one-character days: `월수금`, `135`
            found = [_DAY_NAMES.get(char) for char in part]
            if None in found:
                return None
            chosen.update(day for day in found if day is not None)
    return "".join(sorted({str((day - 1) % 7 + 1) for day in chosen})) or None


def parse_number(text: str, *, low: int, high: int) -> int | None:
    """A whole number within [low, high], or None."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_items(text: str) -> list[str] | None:
    """Comma-separated keywords or names, trimmed; None when any is empty or too long."""
    items = [" ".join(part.split()) for part in text.split(",")]
    if not items or any(not item or len(item) > MAX_ITEM for item in items):
        return None
    return items


def item_hash(item: str) -> str:
    """Six hex digits identifying a list entry in callback data."""
    return hashlib.sha1(item.encode()).hexdigest()[:6]


# --- Changes ---


def language_change(value: str) -> Change | None:
    """Set the chat's language (`auto` clears it)."""
    if value not in ("ko", "en", "auto"):
        return None
    language = None if value == "auto" else value
    return Change(
        {"language": language}, "settings.done_lang", {"language": Key(f"settings.lang_{value}")}
    )


def item_key(column: str, item: str) -> object:
    """What makes two entries of a list the same: names fold as the selection compares them
    (`Rocktaschel` = `Rocktäschel`), keywords by what they match (`RL` = `rl`)."""
    if column == "followed_authors":
        return normalize_name(item) or item.casefold()
    return keyword_key(item)


def add_items(chat: chats.Chat, column: str, text: str) -> Change:
    """Add keywords or authors to a list (raises UserError when invalid, duplicate or full)."""
    items = parse_items(text)
    if items is None:
        raise UserError("settings.bad_item", max=MAX_ITEM)
    current: list[str] = list(getattr(chat, column) or [])
    known = {item_key(column, entry) for entry in current}
    new: dict[object, str] = {}
    for item in items:
        key = item_key(column, item)
        if key not in known:
            new.setdefault(key, item)
    list_key = f"settings.list_{LIST_NAMES[column]}"
    if not new:
        raise UserError("settings.already_listed", list=Key(list_key), items=", ".join(items))
    if len(current) + len(new) > MAX_ITEMS:
        raise UserError("settings.list_full", list=Key(list_key), max=MAX_ITEMS)
    added = tuple(new.values())
    return Change(
        {column: current + list(added)},
        "settings.done_added",
        {"list": Key(list_key), "items": ", ".join(added)},
        added=added,
    )


def typed_change(chat: chats.Chat, name: str, value: str) -> Change:
    """The change for `/settings <name> <value>` (raises UserError with a helpful message)."""
    name = name.casefold()
    if name in ("time", "시간"):
        time = parse_time(value)
        if time is None:
            raise UserError("settings.bad_time", text=shorten(value))
        return Change({"delivery_time": time}, "settings.done_time", {"time": time})
    if name in ("tz", "timezone", "zone", "시간대"):
        zone = parse_zone(value)
        if zone is None:
            raise UserError("settings.bad_zone", text=shorten(value))
        return Change({"timezone": zone}, "settings.done_zone", {"timezone": zone})
    if name in ("days", "day", "weekdays", "요일"):
        days = parse_days(value)
        if days is None:
            raise UserError("settings.bad_days", text=shorten(value))
        return _days_change(days)
    if name in ("top", "topn", "top_n"):
        top = parse_number(value, low=1, high=MAX_TOP)
        if top is None:
            raise UserError("settings.bad_top", max=MAX_TOP)
        return Change({"top_n": top}, "settings.done_top", {"top_n": top})
    if name in ("votes", "min_votes", "minvotes"):
        votes = parse_number(value, low=0, high=MAX_VOTES)
        if votes is None:
            raise UserError("settings.bad_votes", max=MAX_VOTES)
        return Change({"min_votes": votes}, "settings.done_votes", {"min_votes": votes})
    if name in ("lang", "language", "언어"):
        change = language_change(value.strip().casefold())
        if change is None:
            raise UserError("settings.bad_lang")
        return change
    if name in ("cadence", "frequency", "주기"):
        return cadence_change(chat, value)
    if name in ("poll", "polls", "투표"):
        return poll_change(chat, value)
    if name in ("foryou", "for_you", "for-you", "추천", "맞춤추천"):
        return foryou_change(value)
    column = {"include": "include_keywords", "exclude": "exclude_keywords"}.get(name)
    if column is None and name in ("author", "authors", "follow", "저자"):
        column = "followed_authors"
    if column is None:
        raise UserError("settings.unknown_setting", text=shorten(name))
    return add_items(chat, column, value)


def cadence_change(chat: chats.Chat, value: str) -> Change:
    """Daily, weekly or both (English or Korean words)."""
    folded = " ".join(value.casefold().split())
    for cadence, words in CADENCE_WORDS.items():
        if folded in words:
            params: dict[str, object] = {"cadence": Key(f"settings.cadence_{cadence}")}
            return Change({"cadence": cadence}, "settings.done_cadence", params)
    raise UserError("settings.bad_cadence")


def poll_change(chat: chats.Chat, value: str) -> Change:
    """Turn the journal-club poll after the daily digest on or off (groups only)."""
    if chat.type not in GROUP_TYPES:
        raise UserError("settings.poll_groups_only")
    folded = value.strip().casefold()
    for state, words in SWITCH_WORDS.items():
        if folded in words:
            key = "settings.done_poll_on" if state else "settings.done_poll_off"
            return Change({"journal_poll": state}, key, {})
    raise UserError("settings.bad_poll")


def foryou_change(value: str) -> Change:
    """Turn the digest's "✨ For you" section on or off (it also needs 3 saved papers)."""
    folded = value.strip().casefold()
    for state, words in SWITCH_WORDS.items():
        if folded in words:
            key = "settings.done_foryou_on" if state else "settings.done_foryou_off"
            return Change({"for_you": state}, key, {"count": MIN_SAVED})
    raise UserError("settings.bad_foryou")


def _days_change(days: str) -> Change:
    """The change to deliver on `days` (ISO weekday digits)."""
    return Change({"weekdays": days}, "settings.done_days", {"days": days})


EXAMPLES = {
    "time": "time 07:30",
    "tz": "tz Asia/Seoul",
    "days": "days mon-fri",
    "top": "top 5",
    "votes": "votes 10",
    "cadence": "cadence weekly",
    "poll": "poll on",
}


def days_label(lang: Lang, days: str) -> str:
    """`every day`, `weekdays`, `weekends` or the days' short names (`Mon, Wed, Fri`)."""
    for preset, key in ((EVERY_DAY, "every"), (WEEKDAYS, "weekdays"), (WEEKENDS, "weekends")):
        if days == preset:
            return translate(lang, f"settings.days_{key}")
    names = translate(lang, "settings.day_names").split()
    return ", ".join(names[int(day) - 1] for day in days if day in "1234567")


# --- Rendering the menu ---


def _language_label(lang: Lang, language: str | None) -> str:
    """The chat's language setting as words."""
    return translate(lang, f"settings.lang_{language or 'auto'}")


def describe_settings(chat: chats.Chat, lang: Lang) -> str:
    """The chat's settings as lines (shared with /status)."""
    none = translate(lang, "settings.none")
    foryou = Key("settings.poll_on" if chat.for_you else "settings.poll_off")
    lines = [
        _details(chat, lang, none),
        cadence_line(chat, lang),
        translate(lang, "settings.foryou_line", state=foryou),
    ]
    return "\n".join(line for line in lines if line)


def cadence_line(chat: chats.Chat, lang: Lang) -> str:
    """The chat's cadence, and in a group whether a poll follows the digest."""
    cadence = chat.cadence if chat.cadence in chats.CADENCES else "daily"
    line = translate(lang, "settings.cadence_line", cadence=Key(f"settings.cadence_{cadence}"))
    if chat.type not in GROUP_TYPES:
        return line
    state = Key("settings.poll_on" if chat.journal_poll else "settings.poll_off")
    return line + "\n" + translate(lang, "settings.poll_line", state=state)


def _details(chat: chats.Chat, lang: Lang, none: str) -> str:
    """Delivery time, filters and language."""
    return translate(
        lang,
        "settings.details",
        time=chat.delivery_time,
        timezone=chat.timezone,
        days=days_label(lang, chat.weekdays or EVERY_DAY),
        top_n=chat.top_n,
        min_votes=chat.min_votes,
        language=_language_label(lang, chat.language),
        include=", ".join(chat.include_keywords or ()) or none,
        exclude=", ".join(chat.exclude_keywords or ()) or none,
        authors=", ".join(chat.followed_authors or ()) or none,
    )


def menu_text(chat: chats.Chat, lang: Lang, *, note: str = "", prompt: str = "") -> str:
    """The settings message: title, an optional confirmation, the settings, a view's prompt."""
    title = translate(
        lang, "settings.title", chat=chat.title or translate(lang, "settings.this_chat")
    )
    state = translate(lang, "settings.subscribed" if chat.subscribed else "settings.not_subscribed")
    parts = [title, note, describe_settings(chat, lang), state, prompt]
    return "\n\n".join(part for part in parts if part)


def _button(text: str, data: str) -> InlineKeyboardButton:
    """One callback button."""
    return InlineKeyboardButton(text, callback_data=data)


def _rows(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out `width` to a row."""
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def _main_keyboard(lang: Lang) -> list[list[InlineKeyboardButton]]:
    """The top-level menu buttons."""
    label = functools.partial(translate, lang)
    return [
        [_button(label("settings.btn_time"), "st:t"), _button(label("settings.btn_zone"), "st:z")],
        [
            _button(label("settings.btn_days"), "st:w"),
            _button(label("settings.btn_cadence"), "st:c"),
        ],
        [_button(label("settings.btn_top"), "st:n"), _button(label("settings.btn_votes"), "st:v")],
        [
            _button(label("settings.btn_lang"), "st:l"),
            _button(label("settings.btn_keywords"), "st:k"),
        ],
        [
            _button(label("settings.btn_authors"), "st:a"),
            _button(label("settings.btn_done"), "st:d"),
        ],
    ]


def _list_buttons(chat: chats.Chat, code: str, mark: str) -> list[InlineKeyboardButton]:
    """A ✕ button per entry of one list."""
    entries: list[str] = getattr(chat, LISTS[code]) or []
    return [
        _button(f"✕ {mark}{shorten(entry, 30)}", f"st:rm:{code}:{index}:{item_hash(entry)}")
        for index, entry in enumerate(entries)
    ]


def _view_keyboard(chat: chats.Chat, view: str, lang: Lang) -> list[list[InlineKeyboardButton]]:
    """The buttons of a sub-menu, with ◀ Back."""
    if view == "t":
        rows = _rows([_button(t, f"st:t:{t.replace(':', '')}") for t in TIMES], 4)
    elif view == "z":
        rows = _rows([_button(z, f"st:z:{i}") for i, z in enumerate(ZONES)], 2)
    elif view == "n":
        rows = _rows([_button(str(n), f"st:n:{n}") for n in TOP_CHOICES], 6)
    elif view == "v":
        rows = _rows([_button(str(v), f"st:v:{v}") for v in VOTE_CHOICES], 6)
    elif view == "l":
        auto = translate(lang, "settings.btn_auto")
        rows = [
            [
                _button("한국어", "st:l:ko"),
                _button("English", "st:l:en"),
                _button(auto, "st:l:auto"),
            ]
        ]
    elif view == "w":
        presets = (EVERY_DAY, WEEKDAYS, WEEKENDS)
        rows = _rows([_button(days_label(lang, days), f"st:w:{days}") for days in presets], 3)
    elif view == "c":
        rows = _cadence_rows(chat, lang)
    elif view == "k":
        rows = _rows(_list_buttons(chat, "i", "+") + _list_buttons(chat, "x", "−"), 2)
    else:
        rows = _rows(_list_buttons(chat, "a", ""), 2)
    return [*rows, [_button(translate(lang, "settings.btn_back"), "st:m")]]


def _cadence_rows(chat: chats.Chat, lang: Lang) -> list[list[InlineKeyboardButton]]:
    """Daily, weekly, both; in a group, the poll switch too."""
    rows = [
        [
            _button(translate(lang, f"settings.btn_cadence_{cadence}"), f"st:c:{cadence}")
            for cadence in chats.CADENCES
        ]
    ]
    if chat.type in GROUP_TYPES:
        switch = "off" if chat.journal_poll else "on"
        rows.append([_button(translate(lang, f"settings.btn_poll_{switch}"), f"st:p:{switch}")])
    switch = "off" if chat.for_you else "on"
    rows.append([_button(translate(lang, f"settings.btn_foryou_{switch}"), f"st:f:{switch}")])
    return rows


PROMPTS = {
    "t": "settings.ask_time",
    "z": "settings.ask_zone",
    "w": "settings.ask_days",
    "n": "settings.ask_top",
    "v": "settings.ask_votes",
    "l": "settings.ask_lang",
    "k": "settings.ask_keywords",
    "a": "settings.ask_authors",
    "c": "settings.ask_cadence",
}


def render_view(
    chat: chats.Chat, view: str, lang: Lang, *, note: str = ""
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message text and keyboard of a view (`m` main menu, `d` closed, others sub-menus)."""
    if view == "d":
        return menu_text(chat, lang, note=note or translate(lang, "settings.saved")), None
    if view == "m":
        return menu_text(chat, lang, note=note), InlineKeyboardMarkup(_main_keyboard(lang))
    prompt = translate(lang, PROMPTS[view], max=MAX_TOP)
    if view == "c" and chat.type in GROUP_TYPES:
        prompt += "\n" + translate(lang, "settings.ask_cadence_group")
    keyboard = InlineKeyboardMarkup(_view_keyboard(chat, view, lang))
    return menu_text(chat, lang, note=note, prompt=prompt), keyboard


# --- Buttons ---


def button_change(chat: chats.Chat, data: str) -> tuple[str, Change | None] | None:
    """(view to show next, change) for callback `data`; None when forged or stale."""
    match = _CALLBACK.fullmatch(data)
    if match is None:
        return None
    if match["list"] is not None:
        return _removal(chat, match["list"], int(match["index"]), match["hash"])
    view, value = match["view"], match["value"]
    if view == "p":  # the poll switch: on or off, and only in groups
        if value not in ("on", "off") or chat.type not in GROUP_TYPES:
            return None
        return "c", poll_change(chat, value)
    if view == "f":  # the "for you" switch, in the cadence view
        return ("c", foryou_change(value)) if value in ("on", "off") else None
    if value is None:
        return view, None
    change = _value_change(view, value)
    return ("m", change) if change is not None else None


def _value_change(view: str, value: str) -> Change | None:
    """The change a value button makes; None when the value is not one the menu offers."""
    if view == "t" and len(value) == 4 and f"{value[:2]}:{value[2:]}" in TIMES:
        time = f"{value[:2]}:{value[2:]}"
        return Change({"delivery_time": time}, "settings.done_time", {"time": time})
    if view == "z" and value.isdigit() and int(value) < len(ZONES):
        zone = ZONES[int(value)]
        return Change({"timezone": zone}, "settings.done_zone", {"timezone": zone})
    if view == "n" and value.isdigit() and int(value) in TOP_CHOICES:
        return Change({"top_n": int(value)}, "settings.done_top", {"top_n": int(value)})
    if view == "v" and value.isdigit() and int(value) in VOTE_CHOICES:
        return Change({"min_votes": int(value)}, "settings.done_votes", {"min_votes": int(value)})
    if view == "w" and value in DAY_PRESETS:
        return _days_change(value)
    if view == "l":
        return language_change(value)
    if view == "c" and value in chats.CADENCES:
        params: dict[str, object] = {"cadence": Key(f"settings.cadence_{value}")}
        return Change({"cadence": value}, "settings.done_cadence", params)
    return None


def _removal(chat: chats.Chat, code: str, index: int, digest: str) -> tuple[str, Change] | None:
    """Remove entry `index` of a list if it is still the entry the button showed."""
    column = LISTS[code]
    entries: list[str] = list(getattr(chat, column) or [])
    if index >= len(entries) or item_hash(entries[index]) != digest:
        return None
    removed = entries.pop(index)
    list_key = Key(f"settings.list_{LIST_NAMES[column]}")
    view = "a" if code == "a" else "k"
    return view, Change(
        {column: entries}, "settings.done_removed", {"list": list_key, "item": removed}
    )


async def _apply(
    services: Services, chat_id: int, change: Change, context: ContextTypes.DEFAULT_TYPE
) -> chats.Chat:
    """Store a change (in its own transaction) and refresh the cached language."""
    async with services.sessions() as session, session.begin():
        chat = await chats.update_settings(
            session, chat_id=chat_id, now=services.clock(), **change.columns
        )
    if "language" in change.columns:
        remember_language(context, chat.language)
    return chat


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A menu button: apply it and edit the menu in place, or answer politely why not."""
    query = update.callback_query
    assert query is not None
    assert update.effective_chat is not None
    services = get_services(context)
    async with services.sessions() as session, session.begin():
        chat = await ensure_chat(session, update, services)
    step = button_change(chat, query.data or "")
    if step is None:
        await query.answer(
            translate(await chat_language(update, context), "settings.expired"), show_alert=True
        )
        return
    if not await is_chat_admin(update, context):
        raise UserError("common.admins_only")
    view, change = step
    note = ""
    if change is not None:
        chat = await _apply(services, chat.chat_id, change, context)
    lang = await chat_language(update, context)
    if change is not None:
        note = translate(lang, change.key, **change.params)
    await query.answer(plain_text(note) if note else None)
    text, keyboard = render_view(chat, view, lang, note=note)
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
    except BadRequest as exc:  # the same value pressed twice: the message is already right
        if "not modified" not in exc.message.lower():
            raise


# --- The command ---


async def archive_names(services: Services, names: Sequence[str]) -> dict[str, str]:
    """The archive's spelling of each name some archived paper lists as an author, keyed by
    the name's folded form (the spelling on the most papers when several fold alike)."""
    wanted = list(dict.fromkeys(normalize_name(name) for name in names))
    papers = func.count(PaperAuthor.arxiv_id)
    query = (
        select(Author.normalized, Author.name)
        .join(PaperAuthor, PaperAuthor.author_id == Author.id)
        .where(Author.normalized.in_(wanted))
        .group_by(Author.id, Author.normalized, Author.name)
        .order_by(papers.desc(), Author.name)
    )
    async with services.sessions() as session:
        rows = (await session.execute(query)).all()
    found: dict[str, str] = {}
    for folded, name in rows:
        found.setdefault(folded, name)
    return found


async def _spelled_as_archived(services: Services, change: Change) -> tuple[Change, list[str]]:
    """New followed authors as the archive spells them (`antoine guedon` → `Antoine Guédon`),
    and the names it does not know (kept as typed: their papers may come later)."""
    found = await archive_names(services, change.added)
    added = tuple(found.get(normalize_name(name), name) for name in change.added)
    unknown = [name for name in change.added if normalize_name(name) not in found]
    current = change.columns["followed_authors"][: -len(added)]
    params = {**change.params, "items": ", ".join(added)}
    return Change({"followed_authors": current + list(added)}, change.key, params, added), unknown


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings opens the menu; `/settings <name> <value>` changes one setting."""
    services = get_services(context)
    text = arguments(context)
    if text and not await is_chat_admin(update, context):
        raise UserError("common.admins_only")
    async with services.sessions() as session, session.begin():
        chat = await ensure_chat(session, update, services)
    note = ""
    if text:
        name, _, value = text.partition(" ")
        if not value.strip():
            example = EXAMPLES.get(name.casefold(), "include diffusion")
            raise UserError("settings.missing_value", example=example)
        change = typed_change(chat, name, value)
        unknown: list[str] = []
        if "followed_authors" in change.columns and change.added:
            change, unknown = await _spelled_as_archived(services, change)
        chat = await _apply(services, chat.chat_id, change, context)
        lang = await chat_language(update, context)
        note = translate(lang, change.key, **change.params)
        if unknown:
            note += "\n" + translate(
                lang, "settings.unknown_author", names=", ".join(unknown), example=unknown[0]
            )
    lang = await chat_language(update, context)
    body, keyboard = render_view(chat, "m", lang, note=note)
    assert update.effective_message is not None
    await update.effective_message.reply_text(body, reply_markup=keyboard)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("settings", settings_command, filters=COMMAND_UPDATES),
    CallbackQueryHandler(settings_button, pattern=r"^st:"),
]
