"""A journal-club poll of a day's papers: the links message and the poll's plain-text options."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.digest.models import Paper
from bot.render.labels import Lang
from bot.render.papers import clip, one_line, render_paper_line

OPTION_LIMIT = 100  # Telegram: 1-100 characters per option
QUESTION_LIMIT = 300
MAX_OPTIONS = 10  # Telegram allows 12; ten titles are what a phone shows without scrolling
MIN_OPTIONS = 2


@dataclass(frozen=True, slots=True)
class PollContent:
    """What a poll sends: numbered paper lines (HTML, sent first), then the poll itself."""

    lines: str
    question: str
    options: tuple[str, ...]
    arxiv_ids: tuple[str, ...]


def option_text(rank: int, paper: Paper) -> str:
    """`3. Title` in plain text, clipped to Telegram's option length."""
    return clip(f"{rank}. {one_line(paper.title)}", OPTION_LIMIT)


def render_poll(papers: Sequence[Paper], *, question: str, lang: Lang) -> PollContent:
    """The poll of the first `MAX_OPTIONS` papers; the caller checks there are at least two."""
    shown = list(papers[:MAX_OPTIONS])
    lines = "\n".join(
        render_paper_line(paper, rank=rank, lang=lang) for rank, paper in enumerate(shown, 1)
    )
    return PollContent(
        lines=lines,
        question=clip(one_line(question), QUESTION_LIMIT),
        options=tuple(option_text(rank, paper) for rank, paper in enumerate(shown, 1)),
        arxiv_ids=tuple(paper.arxiv_id for paper in shown),
    )
