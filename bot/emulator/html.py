"""Telegram's HTML parse mode, as strictly as the Bot API applies it (pure, no I/O).

Error texts follow tdlib's wording; the Bot API prefixes them with
"Bad Request: can't parse entities: ". One deliberate difference: a bare `&` that starts no
valid entity is an error here (Telegram keeps it), so rendered messages stay unambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import cast

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_ENTITY_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,9})|([a-zA-Z]+));")
_SPACE = " \t\n\r"
# `<b>`, `</b>` or `<a href="…">` whose URL needs no decoding
_SIMPLE_TAG = re.compile(r"""<(/?)([a-zA-Z-]{1,10})(?: href="([^"&]*)"| href='([^'&]*)')?>""")
_NEEDS_ATTRIBUTES = frozenset({"span", "tg-emoji"})
_TAG_NAME = re.compile(r"[^ \t\n\r>]*")
# one attribute (name, then a quoted or bare value, or none) or the closing `>`
_ATTRIBUTE = re.compile(
    r"""[ \t\n\r]*(?:(>)|([^ \t\n\r=>]+)[ \t\n\r]*"""
    r"""(?:=[ \t\n\r]*(?:"([^"]*)"|'([^']*)'|([^ \t\n\r>"'][^ \t\n\r>]*)))?)"""
)
_MENTION = re.compile(r"tg://user\?id=(\d{1,20})")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is tdlib's description."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class _Open:
    """A start tag waiting for its end tag."""

    name: str
    offset: int  # UTF-16 offset in the output where the entity begins
    attributes: dict[str, str]


@dataclass(slots=True)
class _Parser:
    """One pass over the markup, building plain text and entities."""

    source: str
    pos: int = 0
    utf16: int = 0
    parts: list[str] = field(default_factory=list)
    entities: list[dict[str, object]] = field(default_factory=list)
    stack: list[_Open] = field(default_factory=list)

    def fail(self, message: str) -> EntityParseError:
        """An error naming its byte offset, as tdlib does."""
        return EntityParseError(message)

    def byte_offset(self, index: int) -> int:
        """UTF-8 byte offset of a character index (only computed for error messages)."""
        return len(self.source[:index].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        """Append plain text to the output."""
        if chunk:
            self.parts.append(chunk)
            self.utf16 += utf16_len(chunk)

    def run(self) -> tuple[str, list[dict[str, object]]]:
        """Parse everything; raise EntityParseError on the first problem."""
        source = self.source
        while (match := _SPECIAL.search(source, self.pos)) is not None:
            self.emit(source[self.pos : match.start()])
            self.pos = match.start()
            if self.fast_tag():
                continue
            if source[self.pos] == "&":
                self.emit(self.entity())
            elif source.startswith("</", self.pos):
                self.end_tag()
            else:
                self.start_tag()
        self.emit(source[self.pos :])
        if self.stack:
            name = self.stack[-1].name
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=_entity_order)
        return "".join(self.parts), self.entities

    def fast_tag(self) -> bool:
        """The common well-formed tags in one regex match (the benchmarks' hot path).

        Anything unusual returns False and takes the precise path, which words the errors.
        """
        match = _SIMPLE_TAG.match(self.source, self.pos)
        if match is None:
            return False
        closing, name, quoted, single = match.groups()
        name = name.lower()
        if name not in _ENTITY_TYPES or name in _NEEDS_ATTRIBUTES:
            return False
        if closing:
            if not self.stack or self.stack[-1].name != name or quoted or single:
                return False
            self.pos = match.end()
            self.close(self.stack.pop())
            return True
        href = quoted if quoted is not None else single
        if href is not None and name != "a":
            return False
        self.stack.append(_Open(name, self.utf16, {} if href is None else {"href": href}))
        self.pos = match.end()
        return True

    def entity(self) -> str:
        """Decode `&...;` at the current position."""
        start = self.pos
        match = _ENTITY.match(self.source, start)
        char = _decode_entity(match) if match else None
        if match is None or char is None:
            raise self.fail(
                f'Character "&" at byte offset {self.byte_offset(start)} must be escaped as "&amp;"'
            )
        self.pos = match.end()
        return char

    def start_tag(self) -> None:
        """Parse `<name attr=value ...>` and open its entity."""
        begin = self.pos
        name_end = _TAG_NAME.match(self.source, begin + 1).end()  # type: ignore[union-attr]
        if name_end >= len(self.source):
            raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = self.source[begin + 1 : name_end].lower()
        if name not in _ENTITY_TYPES:
            raise self.fail(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        attributes, self.pos = self.attributes(name, name_end, begin)
        self.check_attributes(name, attributes, begin)
        self.stack.append(_Open(name, self.utf16, attributes))

    def attributes(self, name: str, i: int, begin: int) -> tuple[dict[str, str], int]:
        """Attributes of a start tag; returns them and the index after `>`."""
        found: dict[str, str] = {}
        while (match := _ATTRIBUTE.match(self.source, i)) is not None:
            if match.group(1):
                return found, match.end()
            value = match.group(3) or match.group(4) or match.group(5) or ""
            found[match.group(2).lower()] = _decode_value(value, self, begin)
            i = match.end()
        rest = self.source[i:].lstrip(_SPACE)
        if rest.startswith("=") and rest[1:].lstrip(_SPACE)[:1] not in ("'", '"'):
            raise self.fail(
                f'Empty attribute name in the tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")

    def check_attributes(self, name: str, attributes: dict[str, str], begin: int) -> None:
        """Tags whose meaning depends on a required attribute."""
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise self.fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise self.fail(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                f"{self.byte_offset(begin)}"
            )

    def end_tag(self) -> None:
        """Parse `</name>` and close the innermost entity."""
        begin = self.pos
        end = self.source.find(">", begin + 2)
        if end < 0:
            raise self.fail(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        name = self.source[begin + 2 : end].strip(_SPACE).lower()
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        top = self.stack.pop()
        if top.name != name:
            raise self.fail(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        self.close(top)

    def close(self, top: _Open) -> None:
        """Turn a closed tag into an entity (empty ones vanish, as in Telegram)."""
        length = self.utf16 - top.offset
        if length == 0:
            return
        if top.name == "code" and self.stack and self.stack[-1].name == "pre":
            language = top.attributes.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].attributes["language"] = language.removeprefix("language-")
            return  # <pre><code class=...> is one pre entity with a language
        entity = _entity(top, length)
        if entity is not None:
            self.entities.append(entity)


def _entity_order(entity: dict[str, object]) -> tuple[int, int]:
    """Telegram's order: by offset, outer (longer) entities first."""
    return cast(int, entity["offset"]), -cast(int, entity["length"])


def _decode_entity(match: re.Match[str]) -> str | None:
    """The character an HTML entity stands for, or None when Telegram knows no such entity."""
    hex_digits, decimal, name = match.groups()
    if name is not None:
        return _NAMED.get(name)
    code = int(hex_digits, 16) if hex_digits is not None else int(decimal)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _decode_value(raw: str, parser: _Parser, begin: int) -> str:
    """Decode entities inside an attribute value."""
    if "&" not in raw:
        return raw
    out: list[str] = []
    pos = 0
    while (amp := raw.find("&", pos)) >= 0:
        out.append(raw[pos:amp])
        match = _ENTITY.match(raw, amp)
        char = _decode_entity(match) if match else None
        if match is None or char is None:
            raise parser.fail(
                f'Character "&" in an attribute of the tag at byte offset '
                f'{parser.byte_offset(begin)} must be escaped as "&amp;"'
            )
        out.append(char)
        pos = match.end()
    out.append(raw[pos:])
    return "".join(out)


def _entity(top: _Open, length: int) -> dict[str, object] | None:
    """The MessageEntity dict for a closed tag."""
    kind = _ENTITY_TYPES[top.name]
    entity: dict[str, object] = {"type": kind, "offset": top.offset, "length": length}
    if kind == "text_link":
        url = top.attributes.get("href", "")
        if not url:
            return None  # Telegram drops links without a target
        mention = _MENTION.fullmatch(url)
        if mention:
            return {**entity, "type": "text_mention", "user": {"id": int(mention.group(1))}}
        entity["url"] = url
    elif kind == "pre" and "language" in top.attributes:
        entity["language"] = top.attributes["language"]
    elif kind == "blockquote" and "expandable" in top.attributes:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = top.attributes["emoji-id"]
    return entity


def parse_html_entities(text: str) -> tuple[str, list[dict[str, object]]]:
    """Plain text and MessageEntity dicts of Telegram HTML; EntityParseError when invalid."""
    return _Parser(text).run()
