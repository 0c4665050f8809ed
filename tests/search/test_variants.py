"""The hand-written Korean → English table (storage.glossary_variants) and the title head credit."""

from __future__ import annotations

from storage import glossary_variants
from storage.analysis import PREFIX, TITLE_WORDS, parse_query
from storage.search_query import (
    fts5_expression,
    query_terms,
    translation_tokens,
    tsquery_expression,
)
from storage.search_ranking import title_boost


def test_a_key_ignores_particles_and_spacing() -> None:
    """`사고의 연쇄`, `사고 연쇄` and `사고연쇄` are one entry; the longest run wins."""
    for words in (["사고의", "연쇄"], ["사고", "연쇄"], ["사고연쇄"]):
        span, english = glossary_variants.longest_match(words)
        assert span == len(words)
        assert "chain of thought" in english
    assert glossary_variants.longest_match(["보상", "모델", "학습"])[0] == 2
    assert glossary_variants.longest_match(["zzz"]) == (0, [])


def test_dongyeongsang_is_looked_up_as_video() -> None:
    """`동영상` is the commonest Korean word for video: `긴 동영상` is the `긴 비디오` entry
    (*long video*); `영상`, also an image, stays itself."""
    assert glossary_variants.longest_match(["긴", "동영상을"]) == (2, ["long video"])
    assert glossary_variants.longest_match(["긴", "영상"])[0] == 2  # a form of that line
    assert glossary_variants.longest_match(["의료", "동영상"]) != (
        glossary_variants.longest_match(["의료", "영상"])
    )


def test_a_word_the_summaries_never_use_gets_its_english_term() -> None:
    """`점군` (the summaries write `포인트 클라우드`) also asks for *point cloud*."""
    (term,) = query_terms(parse_query("점군"))[0]
    assert ["point", "cloud"] in term
    assert ["포인", "인트", "트클", "클라", "라우", "우드"] not in term  # English only, no chain


def test_a_starred_phrase_ends_in_a_prefix_token() -> None:
    """`생성` → `generat*`: generation, generative and generating all match."""
    (term,) = query_terms(parse_query("생성"))[0]
    assert ["generat" + PREFIX] in term


def test_a_derived_form_uses_its_stem_entry() -> None:
    """`객체탐지기` has no entry; its stem `객체탐지` (= 객체 탐지) has one."""
    (term,) = query_terms(parse_query("객체탐지기"))[0]
    assert ["object", "detection"] in term


def test_the_head_of_an_english_translation_counts_half_in_a_title() -> None:
    """*segmentation* alone in a title is half of *semantic segmentation*; English terms typed
    as such get no such credit."""
    korean = [[["의미", "미론", "분할"], ["semantic", "segmentation"]]]
    assert title_boost(korean, "semantic segmentation of clouds") == 3.0
    assert title_boost(korean, "universal image segmentation") == 2.0
    assert title_boost(korean, "image generation") == 1.0
    english = [[["semantic", "segmentation"]]]
    assert title_boost(english, "universal image segmentation") == 1.0


def test_every_form_of_the_table_can_match() -> None:
    """A form with Latin letters or digits, or longer than a lookup's span, would never match;
    each line parses as forms `=` English phrases (a large table hides such slips)."""
    for line in glossary_variants._TABLE.strip().splitlines():
        forms, english = line.split("=")
        assert [phrase for phrase in english.split(";") if phrase.strip()], line
        for form in forms.split("|"):
            words = form.split()
            assert 1 <= len(words) <= glossary_variants.MAX_SPAN, form
            assert glossary_variants._key(words), form
            assert glossary_variants.longest_match(words)[0] == len(words), form


def test_a_translation_also_matches_its_words_anywhere_in_a_title() -> None:
    """*motion generation* is also its words' families in a title in any order (`Generating
    Human Motions`); function words are left out; one word has no such form."""
    assert translation_tokens("motion generation") == [
        ["motion", "generation"],
        [TITLE_WORDS, "motion" + PREFIX, "generat" + PREFIX],
    ]
    assert translation_tokens("chain of thought")[1] == [
        TITLE_WORDS,
        "chain" + PREFIX,
        "thought" + PREFIX,
    ]
    assert translation_tokens("semantic segmentation")[1][2] == "segment" + PREFIX
    assert translation_tokens("pruning") == [["pruning"]]
    assert len(translation_tokens("direct preference optimization")) == 1
    # One word repeated is one word: `end` anywhere in a title is no match of *end to end*.
    assert translation_tokens("end to end") == [["end", "to", "end"]]
    (term,) = query_terms(parse_query("동작 생성"))[0]
    assert [TITLE_WORDS, "motion" + PREFIX, "generat" + PREFIX] in term
    (term,) = query_terms(parse_query("점군"))[0]  # a two-syllable word is Korean too
    assert [TITLE_WORDS, "point" + PREFIX, "cloud" + PREFIX] in term
    # English typed as such is matched word by word anywhere already: no title form.
    assert all(
        TITLE_WORDS not in tokens
        for term in query_terms(parse_query("motion generation"))[0]
        for tokens in term
    )


def test_a_title_form_is_a_title_column_filter() -> None:
    positive = [[["동작", "생성"], [TITLE_WORDS, "motion", "generat" + PREFIX]]]
    assert (
        fts5_expression(positive, []) == '("동작 생성" OR title_tokens : ("motion" AND "generat"*))'
    )
    assert tsquery_expression(positive, []) == "(('동작' <-> '생성') | ('motion':A & 'generat':*A))"
    # GIN keeps no weights: the loose form only ANDs the lexemes.
    assert (
        tsquery_expression(positive, [], phrases=False)
        == "(('동작' & '생성') | ('motion' & 'generat':*))"
    )


def test_a_korean_and_is_a_function_word() -> None:
    """`계획 및 추론`: `및` (and) is not a word every paper must hold (English-only papers have
    no Korean at all)."""
    assert parse_query("계획 및 추론").words == ["계획", "추론"]


def test_a_topicless_korean_noun_is_left_out_among_other_words() -> None:
    """`환각 현상` asks for hallucination papers, not for the word *phenomenon* (which an English
    paper never holds); a table entry holding such a noun keeps it, and alone it is the query."""
    assert query_terms(parse_query("환각 현상"))[0] == query_terms(parse_query("환각"))[0]
    assert query_terms(parse_query("증류 기법을"))[0] == query_terms(parse_query("증류"))[0]
    (term,) = query_terms(parse_query("연구 에이전트"))[0]
    assert ["research", "agent"] in term
    assert query_terms(parse_query("현상"))[0] == [[["현상"]]]
    assert len(query_terms(parse_query("연구 현상"))[0]) == 2


def test_dimensions_in_korean_are_written_with_a_d_in_english() -> None:
    """`3차원 복원` finds `3D Reconstruction`: `3차원` is `3d`."""
    dimensions, _ = query_terms(parse_query("3차원 복원"))[0]
    assert ["3d"] in dimensions
    assert ["2d"] in query_terms(parse_query("2차원의"))[0][0]


def test_a_word_whose_model_entry_names_no_model_gets_that_entry() -> None:
    """`평가자` alone is the `평가자 모델` entry (*judge*, *evaluator*: the English names no
    model, so `모델` is not part of the concept); `기반` (based) is not *foundation model*."""
    terms = query_terms(parse_query("LLM 평가자"))[0]
    assert any(["judge"] in term for term in terms)
    (based,) = query_terms(parse_query("기반"))[0]
    assert not any("foundation" in tokens for tokens in based)


def test_a_hyphen_between_korean_parts_is_a_space_in_a_lookup() -> None:
    """`키-값 캐시` is the `키 값 캐시` entry (*kv cache*), as spacing is ignored."""
    spaced = glossary_variants.longest_match(["키", "값", "캐시"])[1]
    assert glossary_variants.longest_match(["키-값", "캐시를"]) == (2, spaced)
    assert "kv cache" in spaced


def test_a_hyphenated_korean_compound_is_translated_part_by_part() -> None:
    """`텍스트-투-3D` is *text to 3d* (`투` sounds *to* between parts): papers write
    `Text-to-3D`; a compound with a part no table knows gets no English (`엔드-투-엔드`)."""
    (compound,) = query_terms(parse_query("텍스트-투-3D"))[0]
    assert ["text", "to", "3d"] in compound
    assert ["텍스", "스트", "투", "3d"] in compound  # the Korean spelling still matches
    (unknown,) = query_terms(parse_query("엔드-투-엔드"))[0]
    assert all(token.startswith(("엔", "투")) for tokens in unknown for token in tokens)
    (alone,) = query_terms(parse_query("투"))[0]  # `투` alone is not *to*
    assert ["to"] not in alone
