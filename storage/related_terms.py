"""Related title terms of English ML concepts (pure): what a paper names instead of the concept.

A Korean query word becomes its English phrase through the tables (storage.glossary_variants,
storage.glossary), but a paper about the concept often names a method, a narrower topic or a
usual abbreviation instead (*positional encoding*: `RoPE`, `ALiBi`; *on device*: `mobile`),
and the concept's own words are nowhere in it. Those terms become further alternatives of the
query word (`storage.analysis.RELATED`), matched like the word's own and counting half in the
title boost (storage.search_ranking). The table (related_terms.txt, about 1,300 concepts) was
written blind from general ML knowledge, and extended by a second blind pass; measured in
tests/search/README.md (rounds 8 and 9).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from storage.analysis import analyze_phrase

_FILE = Path(__file__).with_name("related_terms.txt")


def parse(text: str) -> dict[str, list[str]]:
    """`concept = term; term` lines (`#` comments) as concept → terms, both lower case."""
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        concept, _, terms = line.partition("=")
        found = table.setdefault(concept.strip().lower(), [])
        found += [term.strip().lower() for term in terms.split(";") if term.strip()]
    return table


@lru_cache(maxsize=1)
def load() -> dict[str, list[str]]:
    """The shipped table."""
    return parse(_FILE.read_text(encoding="utf-8"))


def concept_key(phrase: str) -> str:
    """A concept phrase as the index analyses it (`flow matching` and the corpus glossary's
    stemmed `flow match` are one key), a trailing `*` kept."""
    phrase = phrase.strip().lower()
    return " ".join(analyze_phrase(phrase.rstrip("*"))) + ("*" if phrase.endswith("*") else "")


@lru_cache(maxsize=1)
def _by_key() -> dict[str, list[str]]:
    """The shipped table keyed by `concept_key` (concepts of one key share their terms)."""
    table: dict[str, list[str]] = {}
    for concept, terms in load().items():
        found = table.setdefault(concept_key(concept), [])
        found += [term for term in terms if term not in found]
    return table


def related(phrase: str) -> list[str]:
    """The related terms of one English concept phrase, in any form the tables write it
    (`concept_key`); none when the table lacks it."""
    return _by_key().get(concept_key(phrase), [])
