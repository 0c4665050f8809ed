"""The title boost: its compiled patterns agree with the plain definition on any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.analysis import PREFIX, TITLE_WORDS
from storage.search_ranking import HEAD_CREDIT, TITLE_WEIGHT, TitleBoost


def _contains(tokens: list[str], spaced: str) -> bool:
    """The phrase `tokens` in `spaced`, read token by token (a prefix token: any longer form);
    a `TITLE_WORDS` alternative's tokens each anywhere."""
    words = spaced.split()
    if tokens[0] == TITLE_WORDS:
        return all(_contains([token], spaced) for token in tokens[1:])
    for start in range(len(words) - len(tokens) + 1):
        if all(
            word.startswith(token.removesuffix(PREFIX)) if token.endswith(PREFIX) else word == token
            for token, word in zip(tokens, words[start:], strict=False)
        ):
            return True
    return False


def _reference(positive: list[list[list[str]]], title: str) -> float:
    """The boost as the ranking contract states it, without patterns."""
    if not positive or not title:
        return 1.0
    found = 0.0
    for alternatives in positive:
        korean = any(not tokens[0].isascii() for tokens in alternatives)
        if any(_contains(tokens, title) for tokens in alternatives):
            found += 1.0
        elif korean and any(
            len(tokens) > 1
            and tokens[0] != TITLE_WORDS
            and tokens[-1].isascii()
            and _contains(tokens[-1:], title)
            for tokens in alternatives
        ):
            found += HEAD_CREDIT
    return 1.0 + TITLE_WEIGHT * found / len(positive)


_WORDS = ["model", "models", "video", "gen", "generation", "a.b", "분할", "영상", "x+y", "(s)"]
_token = st.sampled_from(_WORDS) | st.sampled_from(_WORDS).map(lambda word: word + PREFIX)
_phrase = st.lists(_token, min_size=1, max_size=3) | st.lists(_token, min_size=2, max_size=3).map(
    lambda tokens: [TITLE_WORDS, *tokens]
)
_term = st.lists(_phrase, min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(_term, max_size=3), st.lists(st.sampled_from(_WORDS), max_size=6))
def test_the_boost_agrees_with_its_definition(
    positive: list[list[list[str]]], title: list[str]
) -> None:
    spaced = " ".join(title)
    assert TitleBoost(positive)(spaced) == _reference(positive, spaced)


def test_a_korean_terms_english_head_counts_half() -> None:
    boost = TitleBoost([[["의미", "분할"], ["semantic", "segmentation"]], [["video"]]])
    assert boost("universal image segmentation") == 1.0 + TITLE_WEIGHT * HEAD_CREDIT / 2
    assert boost("semantic segmentation of video") == 1.0 + TITLE_WEIGHT
    assert boost("") == 1.0


def test_a_translations_words_in_any_order_count_as_its_phrase() -> None:
    boost = TitleBoost(
        [[["동작", "생성"], ["motion", "generation"], [TITLE_WORDS, "motion*", "generat*"]]]
    )
    assert boost("generat diverse human motion from text") == 1.0 + TITLE_WEIGHT
    assert boost("motion capture") == 1.0
