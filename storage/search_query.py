"""Query building: a parsed query's terms widened by the glossary, as FTS5 MATCH and
tsquery expressions, and SQL filters for dates and `author:` parts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from storage import glossary, glossary_variants, loanwords, related_terms, translations
from storage.analysis import (
    MAX_TERMS,
    PREFIX,
    RELATED,
    STOPWORDS,
    TITLE_WORDS,
    ParsedQuery,
    analyze_phrase,
    fold,
    is_related,
    strip_particle,
    term_tokens,
)

# Derivational endings of a Korean word (`수학적`, `객체탐지기`, `따르기`, `일관성`, `최적화`):
# its stem matches the other forms, which bigrams of the whole word miss.
_SUFFIXES = ("적", "기", "성", "화")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]{3,}")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_DIMENSIONS = re.compile(r"([1-4])차원")
# Korean nouns that name no topic (`환각 현상`: hallucination *phenomenon*; `증류 기법`:
# distillation *technique*): a query word among others that no table joins to a neighbour is
# left out, as English papers have no Korean word at all and Korean ones often say it otherwise.
FILLERS = frozenset(["현상", "기법", "방법", "방법론", "기술", "연구", "분야", "접근법"])


def _stem_forms(word: str) -> list[list[str]]:
    """Token sequences of a Korean word's stem without a derivational ending (or none)."""
    folded = strip_particle(fold(word))
    if not _HANGUL_WORD.fullmatch(folded) or not folded.endswith(_SUFFIXES):
        return []
    return term_tokens(folded[:-1])


def _variant_terms(words: Sequence[str]) -> list[str]:
    """English phrases of the hand-written table for exactly these words (or none)."""
    span, found = glossary_variants.longest_match(words)
    return found if span == len(words) else []


def _headless_terms(word: str) -> list[str]:
    """The English of the table's `word 모델` entry when that English names no model: the head
    noun `모델` is then not part of the concept, and the word alone names it (`평가자`, as in
    `평가자 모델`: *judge*, *evaluator*; `프로세스 보상`: *process reward*)."""
    found = _variant_terms([word, "모델"])
    if any(re.search(r"\bmodel", phrase) for phrase in found):
        return []
    return found


# English function words Korean writes by their sound inside a hyphenated compound
# (`텍스트-투-3D`: text-to-3D; `엔드-투-엔드`: end-to-end).
_SOUNDED = {"투": "to", "앤드": "and", "오브": "of", "포": "for", "인": "in", "위드": "with"}


def _loanword(word: str) -> list[str]:
    """The English word a Korean word transliterates (storage.loanwords), or none."""
    found = loanwords.english_word(word)
    return [found] if found else []


def _compound_english(word: str) -> str | None:
    """The English of a hyphenated Korean compound, part by part (`텍스트-투-3D` → *text to
    3d*, `이미지-투-비디오` → *image to video*), when every Korean part has one; else None."""
    parts = [part for part in strip_particle(fold(word)).split("-") if part]
    if len(parts) < 2 or not _HANGUL.search(word):
        return None
    english = []
    for number, part in enumerate(parts):
        if not _HANGUL.search(part):
            english.append(part)
            continue
        if 0 < number < len(parts) - 1 and part in _SOUNDED:
            found = [_SOUNDED[part]]
        else:
            found = _variant_terms([part]) or glossary.translations(part) or _loanword(part)
        # A prefix (`generat*`) can only end the phrase.
        found = [f for f in found if not f.endswith("*") or number == len(parts) - 1]
        if not found:
            return None
        english.append(found[0])
    return " ".join(english)


def _alternatives(word: str) -> list[list[str]]:
    """Token sequences any of which matches `word`, widened by its stem and the tables.

    The hand-written table (storage.glossary_variants; for a derived form, its stem's entry)
    and the corpus glossary both apply; when neither knows the word, the English word it
    transliterates (storage.loanwords), else the mined table (its single term is the noisiest:
    `병합` → *token merging*).
    """
    alternatives = [tokens for tokens in term_tokens(word) if tokens]
    korean_word = bool(_HANGUL.search(word))
    dimensions = _DIMENSIONS.fullmatch(strip_particle(fold(word)))
    if dimensions:  # `3차원` is what English writes `3D`
        alternatives.append([dimensions.group(1) + "d"])
    stems = _stem_forms(word)
    alternatives += stems
    variants = _variant_terms([word])
    if not variants and stems:
        variants = _variant_terms([strip_particle(fold(word))[:-1]])
    if not variants and korean_word:
        variants = _headless_terms(word)
    others = glossary.translations(word)
    compound = None if variants or others else _compound_english(word)
    others = [compound] if compound else others
    mined: list[str] = []
    if not others and not variants:  # a loanword's English is surer than the mined term
        others = _loanword(word)
        mined = [] if others else translations.english_terms([word])
    for other in [*variants, *others, *mined]:
        alternatives.extend(translation_tokens(other) if korean_word else _phrase_tokens(other))
    # An English word means its own words; a mined term is too often wrong (`움직임` →
    # *video generation*) to widen further.
    if korean_word:
        alternatives += _related_alternatives([*variants, *others])
    unique: dict[tuple[str, ...], None] = dict.fromkeys(tuple(a[:MAX_TERMS]) for a in alternatives)
    return [list(tokens) for tokens in unique]


def _related_alternatives(phrases: Sequence[str]) -> list[list[str]]:
    """The related terms of English concept phrases (storage.related_terms: `positional
    encoding` → *RoPE*, *ALiBi*), each a token sequence beginning with `RELATED`."""
    return [
        [RELATED, *tokens]
        for phrase in phrases
        for term in related_terms.related(phrase)
        for tokens in _phrase_tokens(term)
    ]


def without_related(positive: list[list[list[str]]]) -> list[list[list[str]]]:
    """Positive terms without their `RELATED` alternatives (for the loose fallback)."""
    return [[tokens for tokens in term if not is_related(tokens)] for term in positive]


def _phrase_tokens(phrase: str) -> list[list[str]]:
    """A multi-word phrase as one token sequence (what the index stores for that text, its
    compounds as their parts: `analyze_phrase`).

    A phrase ending in `*` (the hand-written table's `generat*`) ends in a prefix token.
    """
    if phrase.endswith("*"):
        tokens = analyze_phrase(phrase[:-1])
        if tokens and len(tokens[-1]) >= 3:
            tokens[-1] += PREFIX
        return [tokens] if tokens else []
    tokens = analyze_phrase(phrase)
    return [tokens] if tokens else []


def translation_tokens(phrase: str) -> list[list[str]]:
    """The token sequences of an English translation of a Korean term: the phrase, and for a
    phrase of two words (function words aside) its words anywhere in a title, in any order (an
    alternative beginning with `TITLE_WORDS`): a title often turns the compound round
    (*instruction following*: `Models to Follow Instructions`; *motion generation*:
    `Generating Human Motions`)."""
    found = _phrase_tokens(phrase)
    if found:
        words = dict.fromkeys(t for t in found[0] if t.removesuffix(PREFIX) not in STOPWORDS)
        # Two words: a third (*direct preference optimization*) lets in titles that only
        # share the common ones (`Direct Nash Optimization … General Preferences`). One word
        # repeated (*end to end*) is one word: any title with `end` would match.
        if len(words) == 2:
            found.append([TITLE_WORDS, *dict.fromkeys(_title_root(word) for word in words)])
    return found


def _title_root(token: str) -> str:
    """A title word's family as a prefix token (`generation` → `generat*`, matching generate,
    generated, generative; `segmentation` → `segment*`), kept when it would be too short."""
    if token.endswith(PREFIX) or not token.isascii():
        return token
    root = token
    for ending, rest in (("ation", 6), ("ition", 6), ("ion", 5), ("ing", 5), ("ed", 5), ("e", 5)):
        if token.endswith(ending) and len(token) - len(ending) >= rest:
            root = token[: -len(ending)]
            break
    return root + PREFIX if len(root) >= 4 else token


def query_terms(parsed: ParsedQuery) -> tuple[list[list[list[str]]], list[list[list[str]]]]:
    """Positive terms (each a list of alternatives) and excluded terms, bounded in number."""
    positive = [_phrase_tokens(phrase) for phrase in parsed.phrases]
    positive += _merge_glossary_phrases(parsed.words)
    negative = [term_tokens(word) for word in parsed.excluded]
    return [t for t in positive if t][:MAX_TERMS], [t for t in negative if t][:MAX_TERMS]


def _merge_glossary_phrases(words: Sequence[str]) -> list[list[list[str]]]:
    """Alternatives per word; a run of words forming a glossary entry adds its translation."""
    terms: list[list[list[str]]] = []
    only_fillers = all(_is_filler(word) for word in words)
    index = 0
    while index < len(words):
        span, translations = glossary.longest_match(words[index:])
        longer, variants = glossary_variants.longest_match(words[index:])
        if longer > span:
            span, translations = longer, variants
        elif longer == span > 1:
            translations = [*variants, *translations]
        if span > 1:
            phrase = " ".join(words[index : index + span])
            alternatives = [[tok for w in words[index : index + span] for tok in _first(w)]]
            translated = translation_tokens if _HANGUL.search(phrase) else _phrase_tokens
            alternatives += [tokens for other in translations for tokens in translated(other)]
            if _HANGUL.search(phrase):
                alternatives += _related_alternatives(translations)
            alternatives += _phrase_tokens(phrase)
            terms.append(_dedupe(alternatives))
            index += span
            continue
        if only_fillers or not _is_filler(words[index]):
            terms.append(_alternatives(words[index]))
        index += 1
    return terms


def _is_filler(word: str) -> bool:
    """One of the `FILLERS`, particle aside."""
    return strip_particle(fold(word)) in FILLERS


def _first(word: str) -> list[str]:
    """The main token sequence of one query word."""
    found = term_tokens(word)
    return found[0] if found else []


def _dedupe(alternatives: list[list[str]]) -> list[list[str]]:
    """Drop empty and repeated alternatives, keeping order."""
    unique = dict.fromkeys(tuple(a[:MAX_TERMS]) for a in alternatives if a)
    return [list(tokens) for tokens in unique]


def fts5_expression(positive: list[list[list[str]]], negative: list[list[list[str]]]) -> str:
    """An FTS5 MATCH expression from analysed tokens, each quoted (tokens hold no quotes)."""

    def phrase(tokens: list[str]) -> str:
        if is_related(tokens):  # matched like any phrase
            return phrase(tokens[1:])
        if tokens[0] == TITLE_WORDS:  # each token in the title column, in any order
            return "title_tokens : (" + " AND ".join(phrase([t]) for t in tokens[1:]) + ")"
        # `"a b"* + "c"`: a `*` after a string makes its last token a prefix token.
        strings, current = [], []
        for token in tokens:
            current.append(token.replace('"', "").removesuffix(PREFIX))
            if token.endswith(PREFIX):
                strings.append('"' + " ".join(current) + '"*')
                current = []
        if current or not strings:
            strings.append('"' + " ".join(current) + '"')
        return " + ".join(strings)

    def term(alternatives: list[list[str]]) -> str:
        return "(" + " OR ".join(phrase(tokens) for tokens in alternatives) + ")"

    expression = " AND ".join(term(alternatives) for alternatives in positive)
    for alternatives in negative:
        expression += " NOT " + term(alternatives)
    return expression


def tsquery_expression(
    positive: list[list[list[str]]], negative: list[list[list[str]]], *, phrases: bool = True
) -> str:
    """The same query as a PostgreSQL to_tsquery('simple', …) string, tokens quoted.

    With `phrases=False` a phrase's tokens are only ANDed: GIN answers that exactly, while a
    phrase (`<->`) makes PostgreSQL read and check every matching row's tsvector.
    """

    def lexeme(token: str, weight: str = "") -> str:
        quoted = "'" + token.replace("'", "").removesuffix(PREFIX) + "'"
        if token.endswith(PREFIX) or weight:
            quoted += ":" + ("*" if token.endswith(PREFIX) else "") + weight
        return quoted

    def phrase(tokens: list[str]) -> str:
        if is_related(tokens):  # matched like any phrase
            return phrase(tokens[1:])
        if tokens[0] == TITLE_WORDS:  # each token in the title (weight A), in any order
            weight = "A" if phrases else ""  # GIN does not store weights: the loose form has none
            return "(" + " & ".join(lexeme(token, weight) for token in tokens[1:]) + ")"
        return "(" + (" <-> " if phrases else " & ").join(lexeme(token) for token in tokens) + ")"

    def term(alternatives: list[list[str]]) -> str:
        return "(" + " | ".join(phrase(tokens) for tokens in alternatives) + ")"

    expression = " & ".join(term(alternatives) for alternatives in positive)
    for alternatives in negative:
        expression += " & !" + term(alternatives)
    return expression


AuthorSets = list[list[int]] | None  # per `author:` part, the ids it may mean (None: no part)


def query_filters(parsed: ParsedQuery, authors: AuthorSets) -> tuple[list[Any], dict[str, Any]]:
    """SQL conditions on search_documents `d` for dates and authors, with their parameters.

    Each `author:` part is a condition of its own: `author:lecun author:ballas` asks for
    papers by both.
    """
    conditions: list[Any] = []
    params: dict[str, Any] = {}
    if parsed.dates.start:
        conditions.append("d.day >= :start")
        params["start"] = dt.date.fromisoformat(parsed.dates.start)
    if parsed.dates.end:
        conditions.append("d.day <= :end")
        params["end"] = dt.date.fromisoformat(parsed.dates.end)
    for number, ids in enumerate(authors or ()):
        conditions.append(
            "d.arxiv_id IN (SELECT pa.arxiv_id FROM paper_authors pa "
            f"WHERE pa.author_id IN :author_ids{number})"
        )
        params[f"author_ids{number}"] = ids or [-1]
    return conditions, params
