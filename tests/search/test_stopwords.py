"""English function words are dropped from loose query words, never from phrases."""

from __future__ import annotations

from storage.analysis import parse_query


def test_function_words_are_dropped_from_loose_words() -> None:
    """`with` adds no precision, so only the content words are required."""
    assert parse_query("Tuning LLMs with").words == ["Tuning", "LLMs"]


def test_a_query_of_only_function_words_keeps_them() -> None:
    """Nothing would be left to search, so the words stay."""
    assert parse_query("The With").words == ["The", "With"]


def test_quoted_phrases_keep_function_words() -> None:
    """A quoted phrase is matched as typed."""
    parsed = parse_query('"learning with rewards" agents')
    assert parsed.phrases == ["learning with rewards"]
    assert parsed.words == ["agents"]
