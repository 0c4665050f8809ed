"""A strict checker for the Telegram HTML subset we send (until the emulator exports one)."""

from __future__ import annotations

import html
import re

ALLOWED = {
    "b": frozenset(),
    "i": frozenset(),
    "u": frozenset(),
    "s": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset(),
    "pre": frozenset(),
    "blockquote": frozenset(),
}
_ENTITY = r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});"
_TOKEN = re.compile(
    rf"<(?P<close>/?)(?P<name>[a-z]+)(?P<attrs>(?:\s+[a-z]+=\"[^\"]*\")*)\s*>"
    rf"|(?P<entity>{_ENTITY})|(?P<text>[^<>&]+)|(?P<stray>.)",
    re.DOTALL,
)
_ATTR = re.compile(r'\s+([a-z]+)="([^"]*)"')
_VALUE = re.compile(rf"(?:{_ENTITY}|[^<>&])*")
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidHtml(ValueError):
    """The text would be refused by Telegram's HTML parser (or breaks our stricter rules)."""


def _check_attrs(name: str, attrs: str) -> None:
    """Only known attributes, each once, values with only proper entities."""
    found = _ATTR.findall(attrs)
    keys = [key for key, _ in found]
    if set(keys) - ALLOWED[name] or len(keys) != len(set(keys)):
        raise InvalidHtml(f"bad attributes on <{name}>: {attrs!r}")
    if name == "a" and "href" not in keys:
        raise InvalidHtml("<a> without href")
    for _, value in found:
        if not _VALUE.fullmatch(value):
            raise InvalidHtml(f"unescaped character in attribute {value!r}")


def parse_telegram_html(text: str) -> str:
    """The visible text of a Telegram HTML message; raises InvalidHtml when it is not valid."""
    if _SURROGATE.search(text):
        raise InvalidHtml("lone surrogate")
    stack: list[str] = []
    visible: list[str] = []
    for match in _TOKEN.finditer(text):
        if match["stray"] is not None:
            raise InvalidHtml(f"bare {match['stray']!r} at {match.start()}")
        if match["text"] is not None or match["entity"] is not None:
            visible.append(html.unescape(match.group()))
            continue
        name = match["name"]
        if name not in ALLOWED:
            raise InvalidHtml(f"tag <{name}> not allowed")
        if match["close"]:
            if match["attrs"] or not stack or stack.pop() != name:
                raise InvalidHtml(f"misnested </{name}> at {match.start()}")
        else:
            _check_attrs(name, match["attrs"])
            stack.append(name)
    if stack:
        raise InvalidHtml(f"unclosed tags {stack}")
    result = "".join(visible)
    if not result.strip():
        raise InvalidHtml("empty message")
    return result


def utf16_units(text: str) -> int:
    """UTF-16 length counted independently of the code under test."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def assert_sendable(messages: list[str], limit: int = 4096) -> list[str]:
    """Every message is valid Telegram HTML within `limit` visible units; returns the texts."""
    assert messages, "no messages"
    texts = [parse_telegram_html(message) for message in messages]
    for text in texts:
        assert utf16_units(text) <= limit, utf16_units(text)
    return texts
