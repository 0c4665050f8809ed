"""The ⭐ save buttons under papers: callback data (≤ 64 bytes) and the keyboards that carry it.

Shared by the handlers (which answer the presses) and the delivery engine (which puts a row of
⭐ buttons under each digest message it sends; the digest's papers are read back from the
message, so rows queued before this existed get buttons too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

SAVE_PREFIX = "sv:"
CALLBACK_LIMIT = 64  # bytes of callback data Telegram accepts
BUTTONS_PER_ROW = 5
SAVE_PATTERN = r"^sv:"
# A digest block's first line as bot.render.papers renders it: `<b>3.</b> ★ <b><a href="…">`.
_DIGEST_PAPER = re.compile(
    r'<b>(?P<rank>\d+)\.</b> (?:★ )?<b><a href="https://arxiv\.org/abs/(?P<id>[^"<>&]+)">'
)
_ARXIV_ID = re.compile(r"[A-Za-z0-9.\-/]{1,60}")


def save_data(arxiv_id: str) -> str | None:
    """The callback data of a paper's ⭐ button (None for an id that cannot fit)."""
    data = SAVE_PREFIX + arxiv_id
    return data if len(data.encode()) <= CALLBACK_LIMIT else None


def parse_save(data: str | None) -> str | None:
    """The arXiv id of a ⭐ press (None when the data is not a well-formed one)."""
    if not data or not data.startswith(SAVE_PREFIX):
        return None
    arxiv_id = data[len(SAVE_PREFIX) :]
    return arxiv_id if _ARXIV_ID.fullmatch(arxiv_id) else None


def save_buttons(papers: Sequence[tuple[str, str]]) -> list[list[InlineKeyboardButton]]:
    """Rows of ⭐ buttons for (label, arXiv id) pairs, five to a row."""
    buttons = [
        InlineKeyboardButton(f"⭐ {label}", callback_data=data)
        for label, arxiv_id in papers
        if (data := save_data(arxiv_id)) is not None
    ]
    return [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]


def save_keyboard(papers: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """The keyboard of `save_buttons` (None when there is nothing to save)."""
    rows = save_buttons(papers)
    return InlineKeyboardMarkup(rows) if rows else None


def digest_papers(message: str) -> list[tuple[str, str]]:
    """The (rank, arXiv id) of each paper a rendered digest message starts."""
    found = {match["id"]: match["rank"] for match in _DIGEST_PAPER.finditer(message)}
    return [(rank, arxiv_id) for arxiv_id, rank in found.items()]


def digest_keyboard(message: str) -> InlineKeyboardMarkup | None:
    """⭐ buttons, numbered by rank, for the papers of one digest message."""
    return save_keyboard(digest_papers(message))
