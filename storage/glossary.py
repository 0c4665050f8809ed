"""The Korean ↔ English glossary that widens a query to the other language.

Built once from the corpus by `python -m storage.glossary CORPUS_DIR` into glossary.json, which
ships in the package: the summaries write terms as `한국어(English)` (`강화 학습(Reinforcement
Learning)`), and an English term written with an acronym (`(Retrieval-Augmented Generation,
RAG)`) maps the acronym too. A pair is kept when it occurs at least twice; the Korean side is
the word suffix before the parenthesis that at least half of the occurrences agree on and
whose word count fits the English side best (`_shape`).
Building at ingest time instead would put cross-paper counting on the ingest path; a shipped
file costs nothing there, and the corpus' vocabulary changes slowly.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from storage.analysis import ascii_words, fold, stem, strip_particle

MAX_SPAN = 4  # query words one glossary entry may cover
_PAIR = re.compile(
    r"((?:[\uac00-\ud7a3]+ ){0,3}[\uac00-\ud7a3]+)\s?\(([A-Za-z][A-Za-z0-9 \-]*[A-Za-z0-9])"
    r"(?:\s*[,;]\s*([A-Z][A-Za-z0-9\-]{1,9}))?\)"
)
_HANGUL_ONLY = re.compile(r"[\uac00-\ud7a3]+")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]{1,5}s?")


def korean_key(words: Sequence[str]) -> str:
    """Korean words as a key: folded, spaces and hyphens dropped, the last particle stripped."""
    joined = "".join(fold(word).replace("-", "") for word in words)
    return strip_particle(joined) if _HANGUL_ONLY.fullmatch(joined) else ""


def english_key(words: Sequence[str]) -> str:
    """English words as a key: folded, stemmed, hyphens as spaces ("" unless all English)."""
    if not all(text.isascii() for text in words):
        return ""
    return " ".join(stem(word) for text in words for word in ascii_words(text))


@lru_cache(maxsize=1)
def load() -> dict[str, list[str]]:
    """The shipped glossary: key (Korean or English form) → phrases in the other language."""
    resource = Path(__file__).with_name("glossary.json")
    if not resource.is_file():
        return {}
    data: dict[str, list[str]] = json.loads(resource.read_text(encoding="utf-8"))
    return data


def longest_match(words: Sequence[str]) -> tuple[int, list[str]]:
    """The longest run of leading `words` that is a glossary entry: (length, translations)."""
    table = load()
    for span in range(min(MAX_SPAN, len(words)), 0, -1):
        head = words[:span]
        for key in (korean_key(head), english_key(head)):
            if key and key in table:
                return span, table[key]
    return 0, []


def translations(word: str) -> list[str]:
    """Phrases in the other language for one query word (`강화학습` → reinforcement learning)."""
    span, found = longest_match([word])
    return found if span else []


def _pairs(text: str) -> Iterable[tuple[list[str], str, str | None]]:
    """(Korean words before the parenthesis, English phrase, acronym) found in `text`."""
    for match in _PAIR.finditer(text):
        yield match.group(1).split(), match.group(2), match.group(3)


def build(texts: Iterable[str]) -> dict[str, list[str]]:
    """The glossary of a corpus: pairs occurring at least twice, both ways, most frequent first."""
    candidates: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: dict[str, int] = {}  # Korean candidate → most words it was written in
    totals: Counter[str] = Counter()
    shapes: dict[str, tuple[int, int]] = {}  # English key → (Korean words wanted, syllables)
    acronyms: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for korean, english, acronym in _pairs(text):
            key = english_key([english])
            if not key or len(key.split()) > 5:
                continue
            totals[key] += 1
            shapes.setdefault(key, _shape(english, key))
            for size in range(1, min(3, len(korean)) + 1):
                candidate = korean_key(korean[-size:])
                candidates[key][candidate] += 1
                sizes[candidate] = max(size, sizes.get(candidate, size))
            if acronym:
                acronyms[fold(acronym)][key] += 1
    table: dict[str, list[str]] = defaultdict(list)
    chosen = {
        key: _best_korean(candidates[key], sizes, total, shape=shapes[key])
        for key, total in totals.most_common()
        if total >= 2
    }
    for key, best in chosen.items():
        if best and not _said_by_a_part(key, best, chosen):
            table[key].append(best)
            table[best].append(key)
    for acronym, phrases in sorted(acronyms.items()):
        phrase, count = phrases.most_common(1)[0]
        if count >= 2 and acronym != phrase:
            table[acronym].append(phrase)
    return {key: list(dict.fromkeys(values))[:3] for key, values in sorted(table.items())}


def _said_by_a_part(key: str, korean: str, chosen: Mapping[str, str]) -> bool:
    """Whether a shorter run of `key`'s words already translates to `korean`.

    `시각 언어 모델` is often written `비전-언어 모델`, so "vision language model" collects only
    `언어 모델`: that is what "language model" means, and widening the longer term with it
    would add every language-model paper to a query about vision-language models.
    """
    words = key.split()
    return any(
        chosen.get(" ".join(words[start : start + size])) == korean
        for size in range(1, len(words))
        for start in range(len(words) - size + 1)
    )


def _shape(english: str, key: str) -> tuple[int, int]:
    """(Korean words, fewest syllables) a translation of `english` should have.

    An acronym of n letters (`LLM`) reads as n − 1 Korean words of n + 1 syllables or more
    (`언어 모델`, not `모델`); otherwise a phrase of n English words is n Korean words (at most
    3) of n + 1 syllables or more (`생성` is not "retrieval augmented generation").
    """
    if _ACRONYM.fullmatch(english):
        letters = len(key)
        return max(letters - 1, 1), letters + 1
    words = len(key.split())
    return min(words, 3), 2 if words == 1 else words + 1


def _best_korean(
    candidates: Counter[str], sizes: Mapping[str, int], total: int, *, shape: tuple[int, int]
) -> str:
    """The Korean candidate at least half of the occurrences agree on that fits `shape` best.

    Closest in word count first: taking the longest agreed suffix let the words before a
    term in when a sentence repeats (`할 수 있는 튜닝` for "tuning"); then the most frequent,
    then the longer.
    """
    words, shortest = shape
    agreed = [
        key
        for key, count in candidates.items()
        if key and 2 * count >= total and shortest <= len(key) <= 12
    ]
    return min(
        agreed,
        key=lambda key: (abs(sizes[key] - words), -candidates[key], -len(key)),
        default="",
    )


def main(argv: Sequence[str]) -> int:
    """Build glossary.json next to this module from the Markdown digests under a folder."""
    if len(argv) != 1:
        print("usage: python -m storage.glossary CORPUS_DIR", file=sys.stderr)
        return 2
    paths = sorted(Path(argv[0]).rglob("*.md"))
    table = build(path.read_text(encoding="utf-8-sig") for path in paths)
    target = Path(__file__).with_name("glossary.json")
    target.write_text(json.dumps(table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(paths)} files → {len(table)} entries in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
