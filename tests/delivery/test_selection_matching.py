"""Keyword and author matching in per-chat selection: the way /search matches, not substrings."""

from __future__ import annotations

import pytest

from bot.digest.models import Paper
from bot.edition.selection import ChatFilters, keyword_key, keyword_matches, select_papers
from tests.delivery.test_selection import make_paper


def _ids(papers: list[Paper]) -> list[str]:
    """The arXiv ids, in order."""
    return [paper.arxiv_id for paper in papers]


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        # Korean: spacing does not matter, either way round; a particle after it is fine.
        ("강화학습", "이 논문은 강화 학습(RL)으로 에이전트를 훈련합니다", True),
        ("강화 학습", "새로운 강화학습 방법을 제안합니다", True),
        ("강화학습을", "강화 학습 기반의 방법", True),
        ("멀티모달", "멀티모달 모델의 환각", True),
        ("강화학습", "학습 강화를 위한 데이터", False),
        # English: whole words only, plurals and case folded, diacritics dropped.
        ("RL", "Real-world robots learn to walk", False),
        ("RL", "We fine-tune with RL from human feedback", True),
        ("rl", "Offline-RL for control", True),
        ("agi", "Leveraging magic tricks", False),
        ("AGI", "Towards AGI, safely", True),
        ("models", "A diffusion model for video", True),
        ("diffusion model", "Diffusion Models for video", True),
        ("diffusion model", "a model of diffusion", False),
        ("naive", "A naïve baseline", True),
        # Hyphenated compounds match written joined, hyphenated or spaced.
        ("text-to-video", "Text to video generation", True),
        ("text-to-video", "texttovideo models", True),
        ("vision-language model", "vision language models", True),
        # A phrase runs across a compound's parts; the compound typed joined still matches.
        ("process reward", "Process Reward-Guided Tree Search", True),
        ("large vision language model", "Large Vision-Language Models", True),
        ("sparse mixture of experts", "Sparse Mixture-of-Experts layers", True),
        ("rewardguided", "Process Reward-Guided Tree Search", True),
        ("sparse autoencoder", "Steering with Sparse Auto-Encoders", True),
        ("process reward", "Process supervision with a reward", False),
        # The glossary adds the other language, as in /search.
        ("강화학습", "Reinforcement learning for LLM reasoning", True),
        # A keyword with no letters still matches as plain text.
        ("🤖", "로봇 🤖 데모", True),
        ("🤖", "로봇 데모", False),
        ("", "anything", False),
    ],
)
def test_keyword_matches_like_search(keyword: str, text: str, expected: bool) -> None:
    """A keyword matches exactly when /search for it would find the paper's text."""
    assert keyword_matches(make_paper("1", bullets=(text,)), keyword) is expected


def test_keywords_look_at_title_summary_and_abstract_but_not_across_them() -> None:
    """Every text counts; a phrase does not run from the end of one into the next."""
    paper = make_paper(
        "1", title="Scaling diffusion", bullets=("모델을 제안",), abstract="Agents act."
    )
    assert keyword_matches(paper, "diffusion")
    assert keyword_matches(paper, "모델")
    assert keyword_matches(paper, "agent")
    assert not keyword_matches(paper, "diffusion agents")


def test_include_and_exclude_filters_use_word_matching() -> None:
    """`include RL` no longer picks real-world papers; `exclude agi` no longer drops leveraging."""
    papers = [
        make_paper("1", title="Real-world humanoids", votes=9),
        make_paper("2", title="RL for reasoning", votes=8),
        make_paper("3", title="Leveraging data", bullets=("강화 학습 없이",), votes=7),
    ]
    english = ChatFilters(include_keywords=("RL",))
    assert _ids(select_papers(papers, english)) == ["2", "3"]  # 3 through the glossary
    korean = ChatFilters(include_keywords=("강화학습",), exclude_keywords=("agi",))
    assert _ids(select_papers(papers, korean)) == ["2", "3"]
    assert _ids(select_papers(papers, ChatFilters(exclude_keywords=("rl",)))) == ["1"]


def test_keyword_keys_fold_spelling_but_keep_translations_apart() -> None:
    """Duplicates are keywords that match alike by their own words."""
    assert keyword_key("RL") == keyword_key("rl")
    assert keyword_key("강화학습") == keyword_key("강화 학습")
    assert keyword_key("Models") == keyword_key("model")
    assert keyword_key("RL") != keyword_key("강화학습")
    assert keyword_key("🤖") != keyword_key("🦾")


@pytest.mark.parametrize(
    ("followed", "author"),
    [
        ("Tim Rocktaschel", "Tim Rocktäschel"),
        ("tim rocktäschel", "Tim Rocktäschel"),
        ("rafal poswiata", "Rafał Poświata"),
        ("Jean Christophe Mourrat", "Jean-Christophe Mourrat"),
        ("  ADA   lovelace ", "Ada Lovelace"),
    ],
)
def test_followed_authors_match_without_accents(followed: str, author: str) -> None:
    """A followed name matches however it is accented, cased, spaced or hyphenated."""
    papers = [make_paper("1", votes=50), make_paper("2", authors=("Someone", author), votes=0)]
    filters = ChatFilters(top_n=1, followed_authors=(followed,))
    assert _ids(select_papers(papers, filters)) == ["1", "2"]


def test_followed_author_needs_the_whole_name() -> None:
    """Following is by full name: a surname alone or a punctuation-only entry matches nobody."""
    papers = [make_paper("1", votes=50), make_paper("2", authors=("Tim Rocktäschel",), votes=0)]
    for followed in ("Rocktaschel", "--", ""):
        filters = ChatFilters(top_n=1, followed_authors=(followed,))
        assert _ids(select_papers(papers, filters)) == ["1"]


@pytest.mark.parametrize(
    ("keyword", "title"),
    [
        ("Qwen2.5-Math", "Qwen2.5-Math Technical Report"),
        ("Qwen2.5-Math", "Distilling Qwen2.5-Math-7B into a small model"),
        ("Qwen2.5-1M", "Qwen2.5-1M Technical Report"),
        ("GPT-3.5-turbo", "Beating GPT-3.5-turbo at reasoning"),
    ],
)
def test_a_keyword_copied_from_a_title_matches_it(keyword: str, title: str) -> None:
    """Include and exclude both see it, also where a compound goes on (`-7B`), as /search
    does."""
    paper = make_paper("2501.00001", title=title)
    assert _ids(select_papers([paper], ChatFilters(include_keywords=(keyword,)))) == ["2501.00001"]
    assert select_papers([paper], ChatFilters(exclude_keywords=(keyword,))) == []
