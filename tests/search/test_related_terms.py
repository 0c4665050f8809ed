"""Related title terms (storage.related_terms): a Korean query word also finds the papers that
name its concept only by a method or an abbreviation (`위치 인코딩`: *RoPE*)."""

from __future__ import annotations

from storage import glossary_variants, related_terms, search
from storage.analysis import RELATED, parse_query
from storage.search_query import (
    fts5_expression,
    query_terms,
    tsquery_expression,
    without_related,
)
from storage.search_ranking import RELATED_CREDIT, TITLE_WEIGHT, title_boost
from storage.trends import _expression
from tests.search.archive import digest_session

# Words that name no concept on their own: a related term that is one of them would match
# half the archive.
GENERIC = {"model", "models", "learning", "large", "efficient", "data", "benchmark", "method"}


def test_the_table_parses_and_every_concept_is_reachable_from_a_korean_word() -> None:
    """Every concept is an English phrase of the hand-written table (so a Korean query word
    reaches it); terms are lower case, at most 10 a concept, never one generic word."""
    table = related_terms.load()
    assert len(table) > 1000
    english = {phrase for phrases in glossary_variants.load().values() for phrase in phrases}
    assert set(table) <= english
    for concept, terms in table.items():
        assert 0 < len(terms) <= 10, concept
        assert all(term == term.lower() and term not in GENERIC for term in terms), concept
    assert "rope" in related_terms.related("positional encoding")
    assert related_terms.related("zz not a concept") == []


def test_a_concept_is_found_in_any_form_the_tables_write_it() -> None:
    """The corpus glossary writes its English as the index analyses it (`flow match`): that
    form finds the table's `flow matching`, so `플로우 매칭`, which only the glossary knows,
    also asks for rectified flows."""
    assert related_terms.related("flow match") == related_terms.related("Flow Matching ")
    assert "rectified flow" in related_terms.related("flow match")
    assert related_terms.concept_key("advertis*") == "advertis*"
    assert glossary_variants.longest_match(["플로우", "매칭"]) == (0, [])
    (term,) = query_terms(parse_query("플로우 매칭"))[0]
    assert [RELATED, "rectified", "flow"] in term


def test_parse_skips_comments_and_blank_lines() -> None:
    """`#` lines and blank lines are not concepts; a concept's lines add up."""
    text = "# about\n\nA = b; c\n a = d ;\n"
    assert related_terms.parse(text) == {"a": ["b", "c", "d"]}


def test_a_korean_word_gets_its_concepts_related_terms_marked() -> None:
    """`위치 인코딩` (*positional encoding*) also asks for RoPE and ALiBi, marked `RELATED`;
    the expressions match them like any phrase."""
    (term,) = query_terms(parse_query("위치 인코딩"))[0]
    assert [RELATED, "rope"] in term
    assert [RELATED, "alibi"] in term
    assert ["positional", "encod"] in term  # the concept itself, as analysed
    positive = [term]
    assert '"rope"' in fts5_expression(positive, [])
    assert "~" not in fts5_expression(positive, [])
    assert "('rope')" in tsquery_expression(positive, [])
    assert "~" not in tsquery_expression(positive, [])


def test_an_english_query_word_is_not_widened() -> None:
    """Only a Korean word's concept is widened: an English query means its own words."""
    (term,) = query_terms(parse_query("quantization"))[0]
    assert not any(tokens[0] == RELATED for tokens in term)


def test_a_related_term_in_a_title_counts_less_than_the_concept() -> None:
    """In the title boost a related term counts `RELATED_CREDIT`, the concept itself 1."""
    positive = query_terms(parse_query("위치 인코딩"))[0]
    concept = title_boost(positive, "extending positional encoding for long context")
    related = title_boost(positive, "longrope extending rope to long context")
    assert concept == 1 + TITLE_WEIGHT
    assert related == 1 + TITLE_WEIGHT * RELATED_CREDIT


DIGEST = """## Daily Papers (2025-03-03)

### [Rethinking Positional Encoding in Transformers](https://arxiv.org/abs/2503.00001)

Vote: 5

Authors: A. Writer

- 트랜스포머의 위치 인코딩을 다시 설계합니다.

### [RoPE Scaling Beyond Two Million Tokens](https://arxiv.org/abs/2503.00002)

Vote: 5

Authors: B. Writer

- 회전 방식으로 긴 문맥을 늘립니다.

### [A Benchmark for Table Reasoning](https://arxiv.org/abs/2503.00003)

Vote: 50

Authors: C. Writer

- 표 추론 벤치마크를 제안합니다.
"""


async def test_a_paper_naming_only_a_related_term_is_found_after_the_concept(
    database_url: str,
) -> None:
    """`위치 인코딩` finds the RoPE paper, whose text never names positional encoding, after the
    paper that does; an unrelated paper stays out. On both backends."""
    async with digest_session(database_url, DIGEST, source="r.md") as session:
        hits = await search.search_papers(session, query="위치 인코딩")
    assert [hit.arxiv_id for hit in hits] == ["2503.00001", "2503.00002"]
    assert not any(hit.partial for hit in hits)


def test_a_mined_translation_is_not_widened() -> None:
    """A word only the mined table translates (`움직임` → *video generation*, wrongly) keeps
    that term but gets no related terms: a wrong guess widened would match hundreds of papers."""
    (term,) = query_terms(parse_query("움직임"))[0]
    assert ["video", "generation"] in term
    assert related_terms.related("video generation")
    assert not any(tokens[0] == RELATED for tokens in term)


def test_the_loose_fallback_leaves_related_terms_out() -> None:
    """`without_related` (the fallback's terms) keeps every other alternative, in order."""
    positive = query_terms(parse_query("위치 인코딩 벤치마크"))[0]
    stripped = without_related(positive)
    assert [len(term) for term in stripped] != [len(term) for term in positive]
    for term, kept in zip(positive, stripped, strict=True):
        assert kept == [tokens for tokens in term if tokens[0] != RELATED]


def test_trends_count_the_papers_naming_the_topic_itself() -> None:
    """/trends' monthly counts leave the related terms out (they would cost its 300 ms target)."""
    for dialect in ("sqlite", "postgresql"):
        expression = _expression("위치 인코딩", dialect)
        assert "positional" in expression
        assert "rope" not in expression
