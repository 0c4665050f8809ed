"""The glossary builder: which Korean words become the translation of an English term."""

from __future__ import annotations

from storage import glossary


def test_a_repeated_sentence_does_not_pull_its_words_into_the_term() -> None:
    """Two identical `할 수 있는 튜닝(tuning)` agree on every suffix: the one-word one wins."""
    table = glossary.build(["모델을 할 수 있는 튜닝(tuning) 방법"] * 2)
    assert table["tuning"] == ["튜닝"]
    assert table["튜닝"] == ["tuning"]


def test_a_two_word_term_takes_two_korean_words() -> None:
    """`강화 학습(Reinforcement Learning)` maps as a whole, written with or without the space."""
    texts = [
        "우리는 강화 학습(Reinforcement Learning)을 쓴다",
        "새로운 강화학습(reinforcement learning) 기법",
        "효율적인 강화 학습(Reinforcement Learning)",
    ]
    assert glossary.build(texts)["reinforcement learn"] == ["강화학습"]


def test_an_acronym_needs_more_than_its_last_word() -> None:
    """`LLM` is `언어 모델` (n − 1 words, n + 1 syllables for n letters), not just `모델`."""
    texts = ["대형 언어 모델(LLM)의 추론", "작은 언어 모델(LLM)로 학습"]
    assert glossary.build(texts)["llm"] == ["언어모델"]


def test_pairs_seen_once_are_left_out() -> None:
    """A single occurrence is not evidence enough."""
    assert glossary.build(["확산 모델(diffusion model)"]) == {}


def test_the_shipped_glossary_has_no_sentence_fragments() -> None:
    """Entries the old longest-suffix rule got wrong now read as the term itself."""
    assert glossary.translations("tuning") == ["튜닝"]
    assert glossary.translations("models") == ["모델"]
    assert glossary.translations("priors") == ["사전"]
    assert glossary.longest_match(["reinforcement", "learning"]) == (2, ["강화학습"])
    assert "reinforcement learn" in glossary.translations("강화학습")


def test_a_term_does_not_take_the_translation_of_its_own_part() -> None:
    """`비전-언어 모델` leaves only `언어 모델` before "(Vision Language Model)": that is what
    "language model" means, so the longer term gets no Korean side at all."""
    texts = [
        "대형 언어 모델(Language Model)을 쓴다",
        "작은 언어 모델(Language Model)",
        "비전-언어 모델(Vision Language Model)",
        "새로운 비전-언어 모델(Vision Language Model)",
    ]
    table = glossary.build(texts)
    assert table["language model"] == ["언어모델"]
    assert "vision language model" not in table
    assert table["언어모델"] == ["language model"]
