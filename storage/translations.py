"""Korean → English term translations mined from the archive's bilingual papers (pure).

A paper with a Korean summary and an English title is a bilingual pair. A Korean word (or two
adjacent words, joined) that appears in the summaries of papers whose titles share an English
term, far more often than that term's share of all titles predicts, translates to it: counted by
pointwise mutual information over papers, kept when at least `MIN_PAIRS` papers back it and it
covers at least `MIN_SHARE` of the Korean word's papers. Unlike the `한국어(English)` pairs of
storage.glossary this needs no parenthesis, so it finds the terms summaries only write in
English (`점군` → point cloud) and Korean words that are not glossed. Built by
`python -m bench.search_translations` into translations.json, which ships in the package.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from storage.analysis import STOPWORDS, ascii_words, fold, stem, strip_particle

MIN_PAIRS = 3  # papers that must show a pair
MIN_SHARE = 0.15  # of the Korean word's papers whose titles hold the English term
MIN_PMI = math.log(4)  # the pair is four times likelier than chance
MAX_TERMS = 1  # English terms kept per Korean word (a second one was mostly noise on dev)
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]{2,}")
# Function words, and the words nearly every ML title holds (they translate nothing).
_TITLE_STOPWORDS = STOPWORDS | frozenset(
    ["towards", "toward", "using", "large", "language", "model", "models", "llm", "llms"]
)


def korean_words(text: str) -> set[str]:
    """Keys of a summary's Korean words and adjacent word pairs (folded, particle stripped)."""
    words = [strip_particle(match.group()) for match in _HANGUL_WORD.finditer(fold(text))]
    return set(words) | {a + b for a, b in zip(words, words[1:], strict=False)}


def title_terms(title: str) -> set[str]:
    """English title terms: stemmed words and adjacent word pairs, minus function words."""
    words = [stem(word) for word in ascii_words(title) if not word.isdigit()]
    kept = [word if word not in _TITLE_STOPWORDS and len(word) > 2 else "" for word in words]
    pairs = {f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False) if a and b}
    return {word for word in kept if word} | pairs


def build(papers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The table of (Korean summary, English title) pairs: Korean key → English terms."""
    documents = [(korean_words(summary), title_terms(title)) for summary, title in papers]
    documents = [(korean, english) for korean, english in documents if korean and english]
    korean_df = Counter(word for korean, _ in documents for word in korean)
    english_df = Counter(term for _, english in documents for term in english)
    pairs: Counter[tuple[str, str]] = Counter()
    for korean, english in documents:
        frequent = [word for word in korean if korean_df[word] >= MIN_PAIRS]
        common = [term for term in english if english_df[term] >= MIN_PAIRS]
        pairs.update((word, term) for word in frequent for term in common)
    total = len(documents)
    scored: dict[str, list[tuple[float, str]]] = {}
    for (word, term), count in pairs.items():
        if count < MIN_PAIRS or count < MIN_SHARE * korean_df[word]:
            continue
        pmi = math.log(count * total / (korean_df[word] * english_df[term]))
        if pmi >= MIN_PMI:
            scored.setdefault(word, []).append((pmi * math.log(count), term))
    table = {}
    for word, terms in sorted(scored.items()):
        best = [term for _, term in sorted(terms, reverse=True)]
        table[word] = _without_parts(best)[:MAX_TERMS]
    return table


def _without_parts(terms: Sequence[str]) -> list[str]:
    """Terms minus single words that a kept two-word term already holds (its part adds noise)."""
    pairs = [term for term in terms if " " in term]
    return [t for t in terms if " " in t or not any(t in pair.split() for pair in pairs)]


@lru_cache(maxsize=1)
def load() -> dict[str, list[str]]:
    """The shipped table (empty when it was never built)."""
    resource = Path(__file__).with_name("translations.json")
    if not resource.is_file():
        return {}
    data: dict[str, list[str]] = json.loads(resource.read_text(encoding="utf-8"))
    return data


def english_terms(words: Sequence[str]) -> list[str]:
    """English terms mined for these Korean query words (one word or two, joined)."""
    joined = "".join(fold(word) for word in words)
    if not _HANGUL_WORD.fullmatch(joined):
        return []
    return load().get(strip_particle(joined), [])
