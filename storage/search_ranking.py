"""Ranking of search candidates: the title boost and the score formula of storage.search."""

from __future__ import annotations

import math
import re

from storage.analysis import PREFIX, TITLE_WORDS, is_related

# Measured on the blind set's dev split (tests/search/README.md).
TITLE_WEIGHT = 2.0  # score × (1 + TITLE_WEIGHT × share of query terms found in the title)
HEAD_CREDIT = 0.5  # a term whose English phrase has only its last word in the title
RELATED_CREDIT = 0.5  # a term found in the title only as a related term (storage.related_terms)


class TitleBoost:
    """1 + 2 × the share of query terms found in a title: a title match means "about this".

    A term counts 1 when one of its alternatives is in the title, `RELATED_CREDIT` when only a
    related term of its concept is (`RoPE` for *positional encoding*: a title naming it is
    likely, not surely, about the concept), `HEAD_CREDIT` when only the last word of an
    English translation of a Korean term is (its head noun: `segmentation` of *semantic
    segmentation*). Built once per query: each term's alternatives are one compiled
    pattern, as a query ranks hundreds of candidates' titles.
    """

    def __init__(self, positive: list[list[list[str]]]) -> None:
        self._terms = [_term_patterns(alternatives) for alternatives in positive]

    def __call__(self, title_tokens: str) -> float:
        if not self._terms or not title_tokens:
            return 1.0
        spaced = f" {title_tokens} "
        found = 0.0
        for whole, related, head in self._terms:
            if whole.search(spaced):
                found += 1.0
            elif related is not None and related.search(spaced):
                found += RELATED_CREDIT
            elif head is not None and head.search(spaced):
                found += HEAD_CREDIT
        return 1.0 + TITLE_WEIGHT * found / len(self._terms)


def title_boost(positive: list[list[list[str]]], title_tokens: str) -> float:
    """`TitleBoost` of one title."""
    return TitleBoost(positive)(title_tokens)


_Patterns = tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]


def _term_patterns(alternatives: list[list[str]]) -> _Patterns:
    """A term's patterns finding, in a spaced token string: any alternative of its own; any
    `RELATED` one (or None); for a Korean term, the last word of an English alternative of
    several words (or None)."""
    related = [tokens[1:] for tokens in alternatives if is_related(tokens)]
    alternatives = [tokens for tokens in alternatives if not is_related(tokens)]
    whole = re.compile("|".join(_phrase(tokens) for tokens in alternatives) or "(?!)")
    found = re.compile("|".join(_phrase(tokens) for tokens in related)) if related else None
    korean = any(not tokens[0].isascii() for tokens in alternatives if tokens)
    heads = [
        _phrase(tokens[-1:])
        for tokens in alternatives
        if korean and len(tokens) > 1 and tokens[-1].isascii() and tokens[0] != TITLE_WORDS
    ]
    return whole, found, re.compile("|".join(heads)) if heads else None


def _phrase(tokens: list[str]) -> str:
    """The pattern of a phrase between single spaces, a prefix token matching its longer
    forms; of a `TITLE_WORDS` alternative, its tokens anywhere in any order."""
    if tokens and tokens[0] == TITLE_WORDS:
        return "^" + "".join(
            f"(?=.*{_phrase(tokens[index : index + 1])})" for index in range(1, len(tokens))
        )
    parts = [
        re.escape(token.removesuffix(PREFIX)) + (r"\S*" if token.endswith(PREFIX) else "")
        for token in tokens
    ]
    return "(?: " + " ".join(parts) + " )"


def combined_score(text_score: float, *, votes: int | None, age_days: int) -> float:
    """The ranking formula of storage.search's docstring."""
    popularity = 1 + 0.15 * math.log1p(max(votes or 0, 0))
    recency = 1 + 0.3 * math.exp(-max(age_days, 0) / 180)
    return text_score * popularity * recency
