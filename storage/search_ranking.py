"""Ranking of search candidates: the title boost and the score formula of storage.search."""

from __future__ import annotations

import math
import re
from functools import lru_cache

from storage.analysis import PREFIX

# Measured on the blind set's dev split (tests/search/README.md).
TITLE_WEIGHT = 2.0  # score × (1 + TITLE_WEIGHT × share of query terms found in the title)
HEAD_CREDIT = 0.5  # a term whose English phrase has only its last word in the title


def title_boost(positive: list[list[list[str]]], title_tokens: str) -> float:
    """1 + 2 × the share of query terms found in the title: a title match means "about this"."""
    if not positive or not title_tokens:
        return 1.0
    words = f" {title_tokens} "
    found = sum(_title_credit(alternatives, words) for alternatives in positive)
    return 1.0 + TITLE_WEIGHT * found / len(positive)


def _title_credit(alternatives: list[list[str]], spaced: str) -> float:
    """1 when an alternative is in the title; `HEAD_CREDIT` when only the last word of an
    English translation of a Korean term is (its head noun: `segmentation` of *semantic
    segmentation*)."""
    if any(_in_tokens(tokens, spaced) for tokens in alternatives):
        return 1.0
    korean = any(not tokens[0].isascii() for tokens in alternatives)
    if korean and any(
        len(tokens) > 1 and tokens[-1].isascii() and _in_tokens(tokens[-1:], spaced)
        for tokens in alternatives
    ):
        return HEAD_CREDIT
    return 0.0


def _in_tokens(tokens: list[str], spaced: str) -> bool:
    """Whether the phrase `tokens` occurs in `spaced` (tokens between single spaces)."""
    if not any(token.endswith(PREFIX) for token in tokens):
        return f" {' '.join(tokens)} " in spaced
    return _phrase_pattern(tuple(tokens)).search(spaced) is not None


@lru_cache(maxsize=1024)
def _phrase_pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """A regular expression finding a phrase with prefix tokens in a spaced token string."""
    parts = [
        re.escape(token.removesuffix(PREFIX)) + (r"\S*" if token.endswith(PREFIX) else "")
        for token in tokens
    ]
    return re.compile(" " + " ".join(parts) + " ")


def combined_score(text_score: float, *, votes: int | None, age_days: int) -> float:
    """The ranking formula of storage.search's docstring."""
    popularity = 1 + 0.15 * math.log1p(max(votes or 0, 0))
    recency = 1 + 0.3 * math.exp(-max(age_days, 0) / 180)
    return text_score * popularity * recency
