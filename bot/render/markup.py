"""Telegram HTML tools: escaping, visible length in UTF-16 units, and tag-safe splitting."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

MESSAGE_LIMIT = 4096  # Telegram's limit on a message's text after entity parsing
CAPTION_LIMIT = 1024

_TAG = re.compile(r"<[^>]*>")
_TOKEN = re.compile(r"<[^>]*>|&#?[0-9A-Za-z]+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z0-9-]+)")
_SURROGATE = re.compile("[\ud800-\udfff]")

_CHAR, _OPEN, _CLOSE = 0, 1, 2
_SPACES = frozenset(" \n")


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units (how Telegram counts; non-BMP characters are 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def escape(text: str) -> str:
    """Escape data for Telegram HTML text or a double-quoted attribute value."""
    if _SURROGATE.search(text):
        # A lone surrogate cannot be sent as UTF-8; Telegram would reject the whole message.
        text = _SURROGATE.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@functools.lru_cache(maxsize=1024)  # a dispatch pass measures the same few dozen blocks per chat
def visible_length(markup: str) -> int:
    """Length of Telegram HTML after entity parsing (tags removed, entities decoded), in UTF-16."""
    return utf16_len(html.unescape(_TAG.sub("", markup)))


@dataclass(frozen=True, slots=True)
class _Atom:
    """One indivisible piece of markup: a character (or entity) or a tag."""

    markup: str
    width: int
    kind: int
    name: str = ""


def _atoms(markup: str) -> list[_Atom]:
    """Break well-formed Telegram HTML into characters, entities and tags."""
    atoms: list[_Atom] = []
    for token in _TOKEN.findall(markup):
        if token.startswith("<") and len(token) > 1:
            match = _TAG_NAME.match(token)
            name = match.group(1).lower() if match else ""
            atoms.append(_Atom(token, 0, _CLOSE if token.startswith("</") else _OPEN, name))
        elif token.startswith("&") and len(token) > 1:
            atoms.append(_Atom(token, utf16_len(html.unescape(token)), _CHAR))
        else:
            atoms.extend(_Atom(char, 2 if ord(char) > 0xFFFF else 1, _CHAR) for char in token)
    return atoms


@dataclass(frozen=True, slots=True)
class _Cut:
    """Where a piece ends, where the next begins, and the tags open at the cut."""

    end: int
    resume: int
    stack: tuple[_Atom, ...]


def _is_space(atom: _Atom) -> bool:
    """Whether the atom is a space or newline a piece may break at."""
    return atom.kind == _CHAR and atom.markup in _SPACES


def _is_combining(atom: _Atom) -> bool:
    """Whether the atom is a combining mark that must stay with the character before it."""
    return atom.kind == _CHAR and len(atom.markup) == 1 and unicodedata.combining(atom.markup) > 0


def _push(stack: list[_Atom], atom: _Atom) -> None:
    """Track open tags across one tag atom."""
    if atom.kind == _OPEN:
        stack.append(atom)
    elif atom.kind == _CLOSE and stack:
        stack.pop()


def _find_cut(atoms: list[_Atom], start: int, stack: tuple[_Atom, ...], limit: int) -> _Cut:
    """The best cut for a piece that starts at `start`: a newline, else a space, else hard."""
    open_tags = list(stack)
    used = 0
    newline: tuple[int, int, tuple[_Atom, ...]] | None = None
    space: tuple[int, int, tuple[_Atom, ...]] | None = None
    for index in range(start, len(atoms)):
        atom = atoms[index]
        if used + atom.width > limit:
            return _choose(atoms, start, index, tuple(open_tags), newline, space, limit)
        if _is_space(atom):
            mark = (index, used, tuple(open_tags))
            if atom.markup == "\n":
                newline = mark
            else:
                space = mark
        used += atom.width
        _push(open_tags, atom)
    return _Cut(len(atoms), len(atoms), tuple(open_tags))


def _choose(
    atoms: list[_Atom],
    start: int,
    index: int,
    stack: tuple[_Atom, ...],
    newline: tuple[int, int, tuple[_Atom, ...]] | None,
    space: tuple[int, int, tuple[_Atom, ...]] | None,
    limit: int,
) -> _Cut:
    """Prefer a line break in the piece's second half, then a space there, then any, then hard."""
    half = limit // 2
    candidates = [mark for mark in (newline, space) if mark is not None and mark[1] > 0]
    good = [mark for mark in candidates if mark[1] >= half]
    mark = good[0] if good else max(candidates, key=lambda item: item[0], default=None)
    if mark is not None:
        return _Cut(mark[0], mark[0] + 1, mark[2])
    end = index
    while end - 1 > start and _is_combining(atoms[end]) and atoms[end - 1].kind == _CHAR:
        end -= 1  # keep a base character with its combining marks
    return _Cut(end, end, stack)


def _has_text(atoms: list[_Atom]) -> bool:
    """Whether a piece shows anything but whitespace (Telegram refuses empty messages)."""
    return any(atom.kind == _CHAR and not atom.markup.isspace() for atom in atoms)


def split_html(markup: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split well-formed Telegram HTML into standalone pieces of at most `limit` visible units.

    Tags open at a cut are closed at the end of one piece and reopened at the start of the next.
    """
    if limit < 8:
        raise ValueError("limit must be at least 8")
    if visible_length(markup) <= limit:
        return [markup]
    atoms = _atoms(markup)
    pieces: list[str] = []
    start = 0
    stack: tuple[_Atom, ...] = ()
    while start < len(atoms):
        cut = _find_cut(atoms, start, stack, limit)
        end = cut.end
        while end > start and _is_space(atoms[end - 1]):
            end -= 1  # nor ends with the blank lines before the cut
        body = atoms[start:end]
        if _has_text(body):
            opening = "".join(atom.markup for atom in stack)
            closing = "".join(f"</{atom.name}>" for atom in reversed(cut.stack))
            pieces.append(opening + "".join(atom.markup for atom in body) + closing)
        start, stack = cut.resume, cut.stack
        while start < len(atoms) and _is_space(atoms[start]):
            start += 1  # a piece never starts with the whitespace it was cut at
    return pieces
