"""Korean loanwords of English terms (`트랜스포머` → transformer, `인컨텍스트` → in-context),
matched by their consonant skeletons (pure).

Korean writes an English term by its sounds, and keeps its consonants in order: `컨텍스트`
k-n-t-k-s-t, *context* k-n-t-k-s-t. Both sides are reduced to classes Korean does not tell
apart (b/p/f/v, d/t, g/k, s/z/j/ch/sh/th, l/r), English loses the letters Korean drops (vowels,
w, y, h, an r before a consonant or at the end: *transformer* t-l-n-s-p-m) and runs of one
class count once. A skeleton alone is ambiguous, so the table is mined: a Korean word of a
summary translates to the English word of the same paper (its title, or the summary's own
`(English)` glosses) with the same skeleton of at least `MIN_CLASSES` classes and the same
first vowel, kept when the pair is seen in `MIN_PAPERS` papers, in `MIN_SHARE` of the Korean
word's papers, and `LIFT` times more often than the English word's share of all papers. That
finds the terms nobody glossed: summaries write `인컨텍스트` where titles write
*In-Context*. Built by `python -m bench.search_translations` into loanwords.json, which ships
in the package.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from storage.analysis import ascii_words, fold, strip_particle

MIN_CLASSES = 3  # shorter skeletons (`러닝` l-n-k) match too many words to mean one
MIN_PAPERS = 2
# Of the Korean word's papers, the share showing the English word: a native word whose sounds
# happen to match a common English one (`최종` s-n-k, *using*) shows it in few of its papers,
# or no more often than papers in general do (LIFT).
MIN_SHARE = 0.3
LIFT = 4

# Initial consonants (ㄱ ㄲ ㄴ ㄷ ㄸ ㄹ ㅁ ㅂ ㅃ ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ ㅋ ㅌ ㅍ ㅎ);
# ㅇ and ㅎ are silent here as English h is.
_INITIALS = (
    "k", "k", "n", "t", "t", "l", "m", "p", "p", "s", "s", "", "s", "s", "s", "k", "t", "p", "",
)  # fmt: skip
# Final consonants (none, ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ㄻ ㄼ ㄽ ㄾ ㄿ ㅀ
# ㅁ ㅂ ㅄ ㅅ ㅆ ㅇ ㅈ ㅊ ㅋ ㅌ ㅍ ㅎ); ㅇ is -ng (`러닝` learning),
# ㅅ a final t (`데이터셋` dataset).
_FINALS = (
    "", "k", "k", "ks", "n", "ns", "n", "t", "l", "lk", "lm", "lp", "ls", "lt", "lp", "l",
    "m", "p", "ps", "t", "t", "nk", "s", "s", "k", "t", "p", "",
)  # fmt: skip
_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
# Verb and derivational endings: a loanword with one (`렌더링하`) is also written without it,
# and a native word with one matched an unrelated English word (`단순화하여`, *attention*).
_VERBAL = ("하", "하여", "하는", "하고", "한", "된", "되어", "기")
_VOWELS = frozenset("aeiouy")
# English spellings of one Korean sound, longest first; soft c and g before e, i, y.
_SPELLINGS = (
    ("sch", "sk"), ("tch", "s"), ("ch", "s"), ("sh", "s"), ("th", "s"), ("ph", "p"),
    ("ck", "k"), ("qu", "k"), ("gh", ""), ("x", "ks"),
)  # fmt: skip
_CLASSES = str.maketrans("bpfvdtgkqcjzslr", "ppppttkkkksssll")


def _collapse(classes: str) -> str:
    """Runs of one class count once (`클러스터` k-l-l-s-t is *cluster* k-l-s-t)."""
    return re.sub(r"(.)\1+", r"\1", classes)


def korean_skeleton(word: str) -> str:
    """The consonant classes of a Hangul word, in order ('' for anything else)."""
    if not _HANGUL.fullmatch(word):
        return ""
    sounds = []
    for syllable in word:
        index = ord(syllable) - 0xAC00
        sounds.append(_INITIALS[index // 588] + _FINALS[index % 28])
    return _collapse("".join(sounds))


def english_skeleton(word: str) -> str:
    """The consonant classes of a lowercase English word as Korean would write them."""
    if not word.isascii() or not word.isalpha():
        return ""
    text = word.lower()
    text = re.sub(r"^kn", "n", text)
    text = re.sub(r"[st]i(?=[aeiou])", "s", text)  # -tion, -sion, -tial
    text = re.sub(r"c(?=[eiy])", "s", text)
    text = re.sub(r"g(?=[eiy])", "j", text)
    for spelling, sound in _SPELLINGS:
        text = text.replace(spelling, sound)
    kept = []
    for position, letter in enumerate(text):
        following = text[position + 1 : position + 2]
        if letter in _VOWELS or letter in "wh":
            continue
        if letter == "r" and following not in _VOWELS:
            continue  # Korean drops an r that no vowel follows (`포머` former)
        kept.append(letter)
    return _collapse("".join(kept).translate(_CLASSES))


# English spellings of each Korean vowel
# (ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ ㅜ ㅝ ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ)
# as the first letter of the word's first vowel (ㅏ is also the i of *mining*,
# `마이닝`); ㅡ is the vowel Korean adds between consonants (`트랜스포머`
# t(ㅡ)-r-a…), so the next one counts.
_VOWEL_LETTERS = (
    "aouiy", "ae", "aiy", "ae", "aeiou", "ae", "aeiy", "ae", "oa", "aow", "aew", "aow",
    "oiy", "uoe", "oaw", "ewa", "iuw", "ueiy", "", "iu", "ieya",
)  # fmt: skip


def _first_vowels(word: str) -> str:
    """The English letters the first vowel Korean did not add between consonants may be."""
    for syllable in word:
        letters = _VOWEL_LETTERS[(ord(syllable) - 0xAC00) % 588 // 28]
        if letters:
            return letters
    return ""


def _vowels_agree(korean: str, english: str) -> bool:
    """Whether the English word's first vowel is one the Korean word's first vowel writes
    (`도형` and *tuning* share a skeleton, not a vowel)."""
    first = next((letter for letter in english if letter in _VOWELS), "")
    return first in _first_vowels(korean)


def _english_words(text: str) -> set[str]:
    """English words of a text, with each hyphenated compound joined (`in-context` → incontext)."""
    words = set(ascii_words(text))
    for compound in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)+", text):
        words.add(compound.replace("-", "").lower())
    return {word for word in words if word.isalpha()}


def _korean_words(text: str) -> set[str]:
    """A summary's Korean words, particle stripped."""
    return {strip_particle(match.group()) for match in _HANGUL.finditer(fold(text))}


def build(papers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The table of (Korean summary, English title) pairs: Korean word → English word."""
    pairs: Counter[tuple[str, str]] = Counter()
    korean_papers: Counter[str] = Counter()
    english_papers: Counter[str] = Counter()
    total = 0
    for summary, title in papers:
        total += 1
        korean = {
            word: korean_skeleton(word)
            for word in _korean_words(summary)
            if len(word) > 1 and not word.endswith(_VERBAL)
        }
        korean_papers.update(korean.keys())
        by_skeleton: dict[str, set[str]] = {}
        for english in _english_words(f"{title} {summary}"):
            english_papers[english] += 1
            skeleton = english_skeleton(english)
            if len(skeleton) >= MIN_CLASSES:
                by_skeleton.setdefault(skeleton, set()).add(english)
        for word, skeleton in korean.items():
            found = by_skeleton.get(skeleton, ())
            pairs.update((word, english) for english in found if _vowels_agree(word, english))
    best: dict[str, tuple[int, str]] = {}
    for (word, english), count in pairs.items():
        share = count / korean_papers[word]
        lift = share / (english_papers[english] / total)
        if count >= MIN_PAPERS and share >= MIN_SHARE and lift >= LIFT:
            best[word] = max(best.get(word, (0, "")), (count, english))
    return {word: english for word, (_, english) in sorted(best.items())}


@lru_cache(maxsize=1)
def load() -> dict[str, str]:
    """The shipped table (empty when it was never built)."""
    resource = Path(__file__).with_name("loanwords.json")
    if not resource.is_file():
        return {}
    data: dict[str, str] = json.loads(resource.read_text(encoding="utf-8"))
    return data


def english_word(word: str) -> str | None:
    """The English word a Korean query word writes, when the table knows it.

    Only mined pairs: guessing a word the table lacks from its skeleton alone (the commonest
    English word of that skeleton and first vowel) was tried and dropped, since most of the
    corpus' Korean words it would have guessed for were native ones (`성능` → *thinking*).
    """
    return load().get(strip_particle(fold(word)))
