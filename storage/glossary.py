"""The Korean ↔ English glossary that widens a query to the other language.

Built once from the corpus by `python -m storage.glossary CORPUS_DIR` into glossary.json, which
ships in the package: the summaries write terms as `한국어(English)` (`강화 학습(Reinforcement
Learning)`), and an English term written with an acronym (`(Retrieval-Augmented Generation,
RAG)`) maps the acronym too. A pair is kept when it occurs at least twice; the Korean side is
the longest word suffix before the parenthesis that at least half of the occurrences agree on.
Building at ingest time instead would put cross-paper counting on the ingest path; a shipped
file costs nothing there, and the corpus' vocabulary changes slowly.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from storage.analysis import ascii_words, fold, stem, strip_particle

MAX_SPAN = 4  # query words one glossary entry may cover
_PAIR = re.compile(
    r"((?:[\uac00-\ud7a3]+ ){0,3}[\uac00-\ud7a3]+)\s?\(([A-Za-z][A-Za-z0-9 \-]*[A-Za-z0-9])"
    r"(?:\s*[,;]\s*([A-Z][A-Za-z0-9\-]{1,9}))?\)"
)
_HANGUL_ONLY = re.compile(r"[\uac00-\ud7a3]+")


def korean_key(words: Sequence[str]) -> str:
    """Korean words as a key: folded, spaces dropped, the last particle stripped."""
    joined = "".join(fold(word) for word in words)
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
    totals: Counter[str] = Counter()
    acronyms: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for korean, english, acronym in _pairs(text):
            key = english_key([english])
            if not key or len(key.split()) > 5:
                continue
            totals[key] += 1
            for size in range(1, min(3, len(korean)) + 1):
                candidates[key][korean_key(korean[-size:])] += 1
            if acronym:
                acronyms[fold(acronym)][key] += 1
    table: dict[str, list[str]] = defaultdict(list)
    for key, total in totals.most_common():
        best = _best_korean(candidates[key], total, words=len(key.split()))
        if total >= 2 and best:
            table[key].append(best)
            table[best].append(key)
    for acronym, phrases in sorted(acronyms.items()):
        phrase, count = phrases.most_common(1)[0]
        if count >= 2 and acronym != phrase:
            table[acronym].append(phrase)
    return {key: list(dict.fromkeys(values))[:3] for key, values in sorted(table.items())}


def _best_korean(candidates: Counter[str], total: int, *, words: int) -> str:
    """The longest Korean candidate that at least half of the occurrences agree on.

    A phrase of n English words needs at least n + 1 syllables (`생성` is not "retrieval
    augmented generation"), which drops the partial matches voting alone lets through.
    """
    agreed = [key for key, count in candidates.items() if key and 2 * count >= total]
    shortest = 2 if words == 1 else words + 1
    agreed = [key for key in agreed if shortest <= len(key) <= 12]
    return max(agreed, key=len, default="")


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
