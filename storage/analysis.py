"""Text analysis for search (pure): Korean and English tokens, and the query language.

Documents and queries go through the same analysis, so a token in a query always has the form
the index stores. Korean uses Hangul bigrams (chosen by measurement over a morphological
analyser: see tests/search/README.md): every Hangul run becomes its overlapping syllable bigrams,
plus a bigram across a single space, so `강화 학습` and `강화학습` index the same bigrams. A query
strips a trailing particle (`모달리티의` → `모달리티`) and asks for its bigrams as a phrase; a
particle glued to an English word is dropped (`Mamba를` → `Mamba`).
English is case- and diacritic-folded and plurals are stemmed. A hyphenated compound is
indexed as its parts, in place; after the text's last token comes each compound's pair: the
token before it and its joined form (`Process Reward-Guided Tree Search` → `process reward
guided tree search process rewardguided`). So a phrase runs across the parts (*process reward*,
*large vision language model* in `Large Vision-Language Model`), the joined form matches alone
and counts for BM25, and a phrase ending in it (*sparse autoencoder* in `Sparse Auto-Encoders`)
still matches. A title also indexes its camel-case names' parts (`title_extras`: `LongRoPE` →
`long rope`).
"""

from __future__ import annotations

import calendar
import itertools
import operator
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from storage.names import normalize_name

MAX_QUERY_CHARS = 500  # longer input is cut: nobody types more, and it bounds the work
MAX_TERMS = 24  # terms per query after analysis, for the same reason
PREFIX = "*"  # ends a query token that matches every index token it begins (never in a token)
# Begins a query alternative whose other tokens must all be in the title, in any order (never
# a token either): storage.search_query.translation_tokens.
TITLE_WORDS = "^"
# Begins a query alternative that is a related term of a query word's concept, not the concept
# itself (storage.related_terms): matched like any phrase, it counts less in the title boost.
RELATED = "~"


def is_related(tokens: Sequence[str]) -> bool:
    """Whether a query alternative is a `RELATED` one."""
    return bool(tokens) and tokens[0] == RELATED


_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
_OTHER_SCRIPT = re.compile(r"[^\x00-\x7f\uac00-\ud7a3]+")
# Hangul runs, or words of other letters/digits joined by hyphens; `_` and punctuation split.
_RUN = re.compile(r"[\uac00-\ud7a3]+|[^\W_\uac00-\ud7a3]+(?:-[^\W_\uac00-\ud7a3]+)*")
# A `_RUN` of other letters, or Hangul runs separated by single spaces (see `_phrase_text`).
_PHRASE = re.compile(
    r"[\uac00-\ud7a3]+(?: [\uac00-\ud7a3]+)*|[^\W_\uac00-\ud7a3]+(?:-[^\W_\uac00-\ud7a3]+)*"
)
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Particles and endings a Korean noun carries in a query, longest first.
_PARTICLE_TEXT = """
으로써 으로서 에서는 에서도 에게서 으로는 이라는 이라고 에서의 으로의 까지의
에서 에게 으로 로써 로서 부터 까지 보다 처럼 하고 이나 이며 이다 라는 라고
과의 와의 에는 에도 에의 로의 들의 들이 들은 들을
은 는 이 가 을 를 의 에 로 와 과 도 만 들
"""
_PARTICLES = tuple(sorted(set(_PARTICLE_TEXT.split()), key=len, reverse=True))
_ARXIV_ID = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|huggingface\.co/papers/|arxiv:\s*)?"
    r"\b(\d{4}\.\d{4,5})(?:v\d+)?\b",
    re.IGNORECASE,
)
# A field with nothing after it (`author:` at the end) matches with an empty value.
_FIELD = re.compile(
    r'(-?)(?:(author|year|date|from|to):)?("([^"]*)"?|\S+|(?<=:))',
    re.IGNORECASE,
)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "via",
        "vs",
        "with",
        "without",
        "및",
    ]
)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def fold(text: str) -> str:
    """Case-, width- and diacritic-fold `text`, keeping Hangul syllables whole."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    return _OTHER_SCRIPT.sub(_fold_match, text)


def _fold_match(match: re.Match[str]) -> str:
    """Fold letters outside ASCII and Hangul through the author-name folding (`ł` → `l`)."""
    return "".join(_fold_char(ch) for ch in match.group())


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One folded character: accented letters lose their marks, punctuation stays."""
    return normalize_name(ch) if ch.isalpha() else ch


def stem(word: str) -> str:
    """A light English stemmer (Harman's S-stemmer plus long `-ing`): `models` → `model`."""
    if word.endswith("ing") and len(word) >= 8 and word.isascii():
        return word[:-3]  # watermarking → watermark, learning → learn (queries fold the same way)
    if len(word) <= 3 or not word.endswith("s") or not word.isascii() or word[-2].isdigit():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")) and word[-3] in "sxz":
        return word[:-2]
    return word[:-1]


def strip_particle(run: str) -> str:
    """`모달리티의` → `모달리티`: drop one trailing particle when two syllables remain."""
    for particle in _PARTICLES:
        if run.endswith(particle) and len(run) - len(particle) >= 2:
            return run[: -len(particle)]
    return run


def hangul_bigrams(run: str) -> list[str]:
    """Overlapping syllable bigrams of a Hangul run (the run itself when it is one syllable)."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _word_tokens(word: str) -> list[str]:
    """Tokens of a non-Hangul word: its stemmed parts (a hyphenated compound has several)."""
    return [stem(part) for part in word.split("-") if part]


def _joined(word: str) -> str:
    """The joined token of a hyphenated compound (`text-to-video` → `texttovideo`)."""
    return stem(word.replace("-", ""))


@lru_cache(maxsize=1 << 17)
def _phrase_text(phrase: str) -> str:
    """Tokens of a `_PHRASE` match, joined: its runs' tokens, plus a bigram across each space.

    The bigram across the space is why `강화 학습` also holds the `화학` of `강화학습`. When no
    word is a single syllable, that is every pair of neighbouring syllables, spaces ignored.
    """
    if not "\uac00" <= phrase[0] <= "\ud7a3":
        return " ".join(_word_tokens(phrase))
    words = phrase.split(" ")
    if min(map(len, words)) > 1:
        syllables = "".join(words)
        return " ".join(map(operator.add, syllables, syllables[1:]))
    # A one-syllable word is a token of its own, between the bigrams into and out of it.
    syllables = "".join(words)
    parts = list(map(operator.add, syllables, syllables[1:]))
    starts = list(itertools.accumulate(map(len, words), initial=0))
    for start, word in reversed(list(zip(starts, words, strict=False))):
        if len(word) == 1:
            parts.insert(start, word)
    return " ".join(parts)


# A title's name written in camel case (`LongRoPE`, `PhysAvatar`, `SEEAvatar`): a capital
# inside the word, after a lower-case letter or before two (`title_extras`).
_CAMEL = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*(?:[a-z][A-Z]|[A-Z]{2}[a-z]))[A-Za-z0-9]+(?![A-Za-z0-9])"
)
_CAMEL_PIECE = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+")
_TWO_LOWER = re.compile(r"[a-z]{2}")


def camel_parts(word: str) -> list[str]:
    """The parts of a name written in camel case (`LongRoPE` → `Long`, `RoPE`; `SEEAvatar` →
    `SEE`, `Avatar`), or none. A part ends before a capital that follows a lower-case letter,
    or that begins a word (two lower-case letters next) after capitals, when the part is a
    word of 3 or more (`Ro` of `RoPE` is not; nor `LLa` of `LLaMA`) and at least 2 characters
    remain (`ChartQA` → `Chart`, `QA`)."""
    parts: list[str] = []
    start = 0
    for index in range(1, len(word) - 1):
        before, here = word[index - 1], word[index]
        boundary = here.isupper() and (
            before.islower() or (before.isupper() and _TWO_LOWER.match(word, index + 1) is not None)
        )
        if boundary and index - start >= 3 and _CAMEL_PIECE.fullmatch(word[start:index]):
            parts.append(word[start:index])
            start = index
    return [*parts, word[start:]] if parts else []


def title_extras(title: str) -> str:
    """Tokens a title's index adds after its own: each camel-case name's parts (`LongRoPE` →
    `long rope`: a query for RoPE, or for avatars, finds `LongRoPE`, `PhysAvatar`). Titles
    only: a paper's own name is about it, a name in a summary is often a baseline
    (`CodeLlama`). Model acronyms' words (`LLM` → *large language model*) were tried too: one
    dev query gained, and "for you" lost on the cold start (its features are these tokens)."""
    found = [camel_parts(word) for word in _CAMEL.findall(title)]
    return " ".join(stem(fold(part)) for parts in found for part in parts)


def _analysed(text: str) -> tuple[str, list[str]]:
    """The tokens of `text` in order (joined by single spaces), and its compounds' pairs: the
    token before each compound, then its joined token.

    One C-level `findall` cuts the text into phrases and Python only looks each one up (a
    Korean summary repeats its phrases): this is what makes indexing cheap at ingest. Only a
    compound's phrase holds a hyphen (`_PHRASE`).
    """
    folded = fold(text)
    phrases = _PHRASE.findall(folded)
    tokens = [_phrase_text(phrase) for phrase in phrases]
    pairs: list[str] = []
    if "-" in folded:
        for number, phrase in enumerate(phrases):
            if "-" in phrase:
                if number:
                    pairs.append(tokens[number - 1].rpartition(" ")[2])
                pairs.append(_joined(phrase))
    return " ".join(tokens), pairs


def analyze_text(text: str) -> str:
    """The index tokens of a document text, joined by single spaces: its tokens in order,
    then its compounds' pairs (see the module docstring)."""
    tokens, pairs = _analysed(text)
    return " ".join([tokens, *pairs]) if pairs else tokens


def analyze(text: str) -> list[str]:
    """The index tokens of a document text (`analyze_text`) as a list."""
    return analyze_text(text).split()


def analyze_phrase(text: str) -> list[str]:
    """The tokens a phrase typed as `text` matches in the index, in order: its compounds as
    their parts, without the pairs a document adds after its text."""
    return _analysed(text)[0].split()


def term_tokens(word: str) -> list[list[str]]:
    """Alternatives for one query word, each a token sequence to match as a phrase.

    First the word's parts (`analyze_phrase`; the trailing Hangul run without its particle):
    what a text the word was copied from holds, also where a compound goes on there
    (`Qwen2.5-Math` in `Qwen2.5-Math-7B`), and what a spaced spelling holds (`Qwen2.5 1M`,
    `text to video`). Then the word with its compounds joined (`qwen2 51m`, `texttovideo`),
    which a text spelling it so holds, as do the pairs after a hyphenated spelling's text when
    the word has one compound. When the parts hold the joined form contiguously (a word
    without hyphens), they would add no match, only a second BM25 count.
    """
    runs = _query_runs(fold(word))
    if not runs:
        return []
    parts: list[str] = []
    joined: list[str] = []
    for number, run in enumerate(runs, 1):
        if _HANGUL.match(run):
            bigrams = hangul_bigrams(strip_particle(run) if number == len(runs) else run)
            parts.extend(bigrams)
            joined.extend(bigrams)
        else:
            parts.extend(_word_tokens(run))
            joined.append(_joined(run))
    if _contains(tuple(parts), tuple(joined)):  # also when the word has no hyphen
        return [joined]
    return [parts, joined]


def _query_runs(folded: str) -> list[str]:
    """The `_RUN`s of a folded query word, minus a particle glued to a Latin word (`DPO를`)."""
    matches = list(_RUN.finditer(folded))
    if len(matches) > 1:
        last, before = matches[-1], matches[-2]
        if (
            last.group() in _PARTICLES
            and before.end() == last.start()
            and not _HANGUL.match(before.group())
        ):
            matches.pop()
    return [match.group() for match in matches]


def _contains(tokens: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """Whether `part` appears contiguously in `tokens`."""
    size = len(part)
    return any(tokens[start : start + size] == part for start in range(len(tokens) - size + 1))


def strip_glued_particle(word: str) -> str:
    """`Mamba를` → `Mamba`: a query word without a particle glued to its Latin or digit end.

    Documents index `Mamba를` as `mamba 를`, so the particle would restrict the word to the
    papers that happen to write it with that particle; and the glossary only knows `mamba`.
    """
    word = unicodedata.normalize("NFKC", word)
    folded = fold(word)
    matches = list(_RUN.finditer(folded))
    if len(_query_runs(folded)) == len(matches):
        return word
    # Folding keeps Hangul syllables as they are, and the particle is the word's last Hangul.
    particle = matches[-1].group()
    cut = word.rfind(particle)
    return word[:cut] + word[cut + len(particle) :]


@dataclass(frozen=True, slots=True)
class DateRange:
    """An inclusive day range as ISO strings (either end open)."""

    start: str | None = None
    end: str | None = None


@dataclass(slots=True)
class ParsedQuery:
    """What a user typed, split into terms, phrases, exclusions, filters and arXiv ids."""

    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    dates: DateRange = field(default_factory=DateRange)
    arxiv_ids: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # filters not understood, as typed

    @property
    def has_text(self) -> bool:
        """Whether any positive text term is left to match."""
        return bool(self.words or self.phrases)


def _day(text: str, *, end: bool) -> str | None:
    """`2024`, `2024-03` or `2024-03-05` as the first (or last) ISO day it covers."""
    match = _DATE.match(text.strip())
    if match is None:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    if not 1 <= int(month or 1) <= 12 or not 1 <= int(day or 1) <= 31:
        return None
    last = calendar.monthrange(int(year), int(month or 12))[1]
    if day:
        return f"{year}-{int(month):02d}-{min(int(day), last):02d}"
    if month:
        return f"{year}-{int(month):02d}-{last if end else 1:02d}"
    return f"{year}-{'12-31' if end else '01-01'}"


def _date_filter(name: str, value: str, dates: DateRange) -> DateRange | None:
    """Apply one `year:`/`date:`/`from:`/`to:` value to the range so far (None: not a date)."""
    low, high = value.split("..", 1) if ".." in value else (value, value)
    if name == "from":
        low, high = value, ""
    elif name == "to":
        low, high = "", value
    start = _day(low, end=False) if low else None
    end = _day(high, end=True) if high else None
    if (low and start is None) or (high and end is None) or not (low or high):
        return None
    return DateRange(start or dates.start, end or dates.end)


def _url_id(match: re.Match[str]) -> str:
    """A URL reduced to the arXiv id it holds (or nothing), so its other words are not terms."""
    found = _ARXIV_ID.search(match.group())
    return f" {found.group(1)} " if found else " "


def parse_query(text: str) -> ParsedQuery:
    """Split raw user text into a `ParsedQuery`; never raises, whatever the input."""
    text = unicodedata.normalize("NFKC", text[:MAX_QUERY_CHARS])
    parsed = ParsedQuery()
    parsed.arxiv_ids.extend(dict.fromkeys(match.group(1) for match in _ARXIV_ID.finditer(text)))
    text = _ARXIV_ID.sub(" ", re.sub(r"https?://\S+", _url_id, text))
    for match in _FIELD.finditer(text):
        negate, name, raw, quoted = match.groups()
        value = quoted if quoted is not None else raw
        if name and not value.strip():
            parsed.unknown.append(match.group().strip())
            continue
        _add_part(parsed, negate=bool(negate), name=(name or "").lower(), value=value, raw=raw)
    parsed.words = drop_stopwords(parsed.words)
    return parsed


def drop_stopwords(words: list[str]) -> list[str]:
    """Loose words minus English function words, unless nothing else would be left.

    `with` or `the` match nearly every paper: requiring them adds no precision and makes the
    index walk its longest posting lists (the slow tail of `Tuning LLMs with`). Quoted phrases
    keep them.
    """
    kept = [word for word in words if fold(word) not in STOPWORDS]
    return kept or words


def _add_part(parsed: ParsedQuery, *, negate: bool, name: str, value: str, raw: str) -> None:
    """Put one parsed query part where it belongs."""
    if not value.strip():
        return
    if name == "author":
        parsed.authors.append(value)
    elif name in ("year", "date", "from", "to"):
        dates = _date_filter(name, value, parsed.dates)
        if dates is None:
            parsed.unknown.append(f"{name}:{raw}")
        else:
            parsed.dates = dates
    elif negate:
        parsed.excluded.append(strip_glued_particle(value))
    elif raw.startswith('"') and " " in value.strip():
        parsed.phrases.append(value)
    else:
        parsed.words.append(strip_glued_particle(value))


def author_terms(name: str) -> list[str]:
    """Folded words of an author query: `Y. LeCun` → `y`, `lecun`."""
    return normalize_name(name).split()[:8]


def ascii_words(text: str) -> list[str]:
    """Lower-case ASCII words of `text` (for glossary look-ups)."""
    return _ASCII_WORD.findall(fold(text))
