"""The checks on a model's answer, as pure functions."""

from __future__ import annotations

import pytest

from bot.content.summarizer import (
    Rejected,
    clean_answer,
    distinctive_terms,
    hangul_share,
    validate_answer,
)
from bot.fakes.llm import korean_bullets
from storage.summaries import SummaryCandidate
from tests.summarize.conftest import DAY


def candidate(arxiv_id: str, title: str, abstract: str) -> SummaryCandidate:
    """A paper as the summarizer sees it."""
    return SummaryCandidate(
        arxiv_id=arxiv_id,
        date=DAY,
        title=title,
        abstract=abstract,
        ai_summary=None,
        ai_keywords=(),
        authors=("Ada Lovelace",),
        votes=None,
        has_korean=False,
        state=None,
    )


THINK = candidate("2501.00001", "Teaching <think> Tokens to Reason", "Reasoning with ThinkTrace.")
OTHER = candidate("2501.00002", "MangaNinja Colorization", "Line art colorization with PointNet.")
TERMS = distinctive_terms([THINK, OTHER])


def test_wrappers_are_stripped() -> None:
    """A "Here is…" line, code fences, blank lines and `* ` bullets do not reach the checks."""
    answer = "Here is the summary:\n```markdown\n* 첫째 항목입니다\n\n- 둘째 항목입니다\n```\n"
    assert clean_answer(answer) == "- 첫째 항목입니다\n- 둘째 항목입니다"


def test_hangul_share_counts_letters_only() -> None:
    """Digits, spaces and punctuation do not count; English terms do."""
    assert hangul_share("한국어 (MoE) 2024!") == pytest.approx(3 / 6)
    assert hangul_share("123") == 0.0


def test_a_tag_the_paper_itself_names_is_allowed() -> None:
    """`<think>` in the title may appear in the summary; the block reads back as the paper."""
    answer = (
        "- ***What's New***: 이 논문은 <think> 토큰을 활용한 ThinkTrace 추론 방법을 제안합니다.\n"
    )
    answer += "- ***Technical Details***: 추론 과정을 단계별로 기록하고 학습합니다."
    valid = validate_answer(answer, paper=THINK, distinctive=TERMS)
    assert [section.title for section in valid.sections] == ["What's New", "Technical Details"]
    assert valid.block.startswith("### [Teaching <think> Tokens to Reason](https://arxiv.org/abs/")
    assert "Vote: -" in valid.block


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("   ", "empty answer"),
        ("- 좋은 요약입니다 <b>굵게</b>\n- 둘째 항목입니다", "HTML tag"),
        ("- 좋은 요약입니다 ![그림](https://x.y/a.png)\n- 둘째 항목입니다", "a Markdown link"),
        ("- 링크 <javascript:alert(1)>\n- 둘째", "a script URL"),
        ("## Daily Papers (2026-01-01)\n- 좋은 요약입니다\n- 둘째 항목입니다", "a heading"),
        ("좋은 요약입니다\n둘째 줄입니다", "not a list of bullets"),
        ("- 하나뿐인 항목입니다", "1 bullets"),
        ("- " + "아주 긴 항목입니다 " * 100 + "\n- 둘째", "too long"),
        ("- This is English only.\n- Still English here.", "not Korean"),
    ],
)
def test_bad_answers_are_rejected(answer: str, reason: str) -> None:
    """Each kind of bad answer is rejected with a reason naming it."""
    with pytest.raises(Rejected) as caught:
        validate_answer(answer, paper=THINK, distinctive=TERMS)
    assert caught.value.reason.startswith(reason)


def test_bullets_about_another_paper_are_rejected() -> None:
    """Bullets naming the other paper's distinctive terms and none of this one's are rejected."""
    answer = korean_bullets(OTHER.title, OTHER.abstract or "")
    with pytest.raises(Rejected, match=r"about another paper \(2501.00002\)"):
        validate_answer(answer, paper=THINK, distinctive=TERMS)
    assert validate_answer(answer, paper=OTHER, distinctive=TERMS).sections
