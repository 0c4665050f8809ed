"""Messages as data: `ko/<area>.json` and `en/<area>.json`, flat keys → `str.format` templates.

Templates may hold Telegram HTML. `translate` HTML-escapes every `str` parameter unless it is
wrapped in `Markup` (already safe HTML, e.g. a rendered link) or `Key` (another message, put in
the same language); other values (numbers) are formatted as is.
"""

from __future__ import annotations

import functools
import json
import string
from importlib import resources
from typing import Literal, get_args

Lang = Literal["ko", "en"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)


class Markup(str):
    """A string that is already valid Telegram HTML: `translate` inserts it unescaped."""

    __slots__ = ()


class Key(str):
    """A parameter that is itself a message key: `translate` puts its text in the same language."""

    __slots__ = ()


def escape_html(text: str) -> str:
    """Escape the characters Telegram's HTML parser treats specially."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every key of `lang`, merged from all area files of that language (read once)."""
    merged: dict[str, str] = {}
    folder = resources.files(__package__) / lang
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            duplicated = merged.keys() & data.keys()
            if duplicated:
                raise ValueError(f"{lang}/{entry.name} redefines {sorted(duplicated)}")
            merged.update(data)
    return merged


def placeholders(template: str) -> set[str]:
    """The names of the `{fields}` a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _safe(lang: str, value: object) -> object:
    """Translate `Key`s, escape plain strings; keep `Markup` and non-strings as they are."""
    if isinstance(value, Key):
        return translate(lang, value)
    if isinstance(value, str) and not isinstance(value, Markup):
        return escape_html(value)
    return value


def translate(lang: str, key: str, /, **params: object) -> str:
    """The message `key` in `lang` with `params` filled in (strings HTML-escaped)."""
    template = catalogue(lang if lang in LANGUAGES else "en")[key]
    return template.format(**{name: _safe(lang, value) for name, value in params.items()})


def language_of(code: str | None) -> Lang | None:
    """The supported language named by a setting or a Telegram `language_code` (`en-US` → en)."""
    if not code:
        return None
    prefix = code.strip().lower().replace("_", "-").split("-")[0]
    return prefix if prefix in LANGUAGES else None


def resolve_language(
    chat_language: str | None, user_language_code: str | None, default: str
) -> Lang:
    """The chat's language setting, else the user's Telegram language, else `default`."""
    return (
        language_of(chat_language)
        or language_of(user_language_code)
        or language_of(default)
        or "ko"
    )
