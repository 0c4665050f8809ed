"""Pick the right digest parser for a text: JSON (HF API) or Markdown (daily_papers_ko)."""

from __future__ import annotations

import re

from bot.digest.hf_json import parse_hf_json
from bot.digest.markdown import parse_markdown
from bot.digest.models import Digest

_BARE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_JSON_EXT = (".json", ".json.txt")


def parse_digest(text: str, *, source: str) -> Digest:
    """Parse a digest of either format, sniffing the content first and the extension second."""
    if looks_like_json(text, source=source):
        return parse_hf_json(text, source=source)
    return parse_markdown(text, source=source)


def looks_like_json(text: str, *, source: str) -> bool:
    """Tell whether a text is HF JSON: it starts with `[`/`{`, is a bare number, or is `.json`."""
    head = text.lstrip("\ufeff \t\r\n")
    if head[:1] in ("[", "{"):
        return True
    if len(head) < 64 and _BARE_NUMBER.fullmatch(head.rstrip()) is not None:
        return True
    if head.startswith("#"):
        return False
    return source.lower().split("?", 1)[0].endswith(_JSON_EXT)
