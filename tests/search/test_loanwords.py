"""Korean loanwords of English terms, matched by consonant skeletons and mined from bilingual
papers (storage.loanwords)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.search import load_corpus
from storage import loanwords
from storage.analysis import parse_query
from storage.loanwords import english_skeleton, korean_skeleton
from storage.search_query import query_terms


@pytest.mark.parametrize(
    ("korean", "english"),
    [
        ("트랜스포머", "transformer"),  # r before a consonant and at the end is not written
        ("인컨텍스트", "incontext"),
        ("러닝", "learning"),  # final ㅇ is -ng
        ("어텐션", "attention"),  # -tion
        ("디퓨전", "diffusion"),  # -sion, f as ㅍ
        ("에이전트", "agent"),  # soft g
        ("레이턴시", "latency"),  # soft c
        ("클러스터", "cluster"),  # ㄹㄹ is one l
        ("데이터셋", "dataset"),  # final ㅅ is t
        ("벤치마크", "benchmark"),
        ("체크포인트", "checkpoint"),
        ("시뮬레이션", "simulation"),
    ],
)
def test_a_loanword_and_its_english_share_a_skeleton(korean: str, english: str) -> None:
    assert len(korean_skeleton(korean)) >= loanwords.MIN_CLASSES
    assert korean_skeleton(korean) == english_skeleton(english)


def test_skeletons_keep_apart_what_korean_writes_apart() -> None:
    assert english_skeleton("transformer") != english_skeleton("transfer")
    assert korean_skeleton("model") == ""  # not Hangul
    assert english_skeleton("gpt-4") == ""


def test_build_keeps_pairs_many_papers_show_and_drops_chance_matches() -> None:
    papers = [
        ("인컨텍스트 학습을 개선합니다. 성능이 좋습니다.", "Better In-Context Learning"),
        ("인컨텍스트 예시 선택. 성능 향상.", "Selecting In-Context Examples"),
        ("단 한 편의 트랜스포머 논문.", "A Transformer Study"),  # seen once: not enough
        ("도형 인식 연구.", "Tuning Shapes"),  # same skeleton, vowels differ
        ("도형 분류.", "Tuning Figures"),
    ] + [("성능 비교.", f"Paper {n} on thinking") for n in range(8)]  # 성능 s-n-k, thinking
    table = loanwords.build(papers)
    assert table["인컨텍스트"] == "incontext"
    assert "트랜스포머" not in table
    assert "도형" not in table
    assert "성능" not in table  # in most of its papers, but no likelier there than anywhere


def test_the_shipped_table_is_what_the_corpus_mines(corpus_dir: Path) -> None:
    """loanwords.json is rebuilt by `python -m bench.search_translations` from the corpus."""
    papers = {
        paper.arxiv_id: (
            " ".join(b for part in paper.summary for b in (part.title or "", *part.bullets)),
            paper.title,
        )
        for digest in load_corpus(corpus_dir)
        for paper in digest.papers
    }
    shipped = json.loads(
        Path(loanwords.__file__).with_name("loanwords.json").read_text(encoding="utf-8")
    )
    assert loanwords.build(papers.values()) == shipped
    assert shipped["어텐션"] == "attention"


def test_a_loanword_query_also_looks_for_its_english_word() -> None:
    terms, _ = query_terms(parse_query("인컨텍스트 러닝"))
    assert terms == [[["인컨", "컨텍", "텍스", "스트"], ["incontext"]], [["러닝"], ["learn"]]]
