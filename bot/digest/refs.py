"""Paper references as people type them: an arXiv id, `arXiv:` id, arxiv.org or HF papers URL."""

from __future__ import annotations

import re

_ARXIV_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?"
_BARE_ID = re.compile(rf"(?:arxiv:)?{_ARXIV_ID}", re.IGNORECASE)
_PAPER_URL = re.compile(
    r"(?:https?://)?(?:www\.|export\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html)|(?:huggingface|hf)\.co/papers)/"
    rf"{_ARXIV_ID}(?:\.pdf)?/?(?:[?#]\S*)?",
    re.IGNORECASE,
)


def parse_paper_ref(text: str) -> str | None:
    """The arXiv id (no version) in an id, `arXiv:` id, arxiv.org or HF papers URL; else None."""
    text = text.strip()
    match = _BARE_ID.fullmatch(text) or _PAPER_URL.fullmatch(text)
    return match.group("id").lower() if match else None
