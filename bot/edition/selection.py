"""Per-chat paper selection (pure): top N by votes, minimum votes, keywords, followed authors.

A keyword matches a paper exactly when /search for that one word would find it in the paper's
title, summary or abstract: both go through the search analyser (storage.analysis), so Korean
ignores spacing (`강화학습` = `강화 학습`), English matches whole words with the same stemming
(`RL` is not in `Real-world`, `models` matches `model`), and the search glossary adds the other
language (`강화학습` also matches `reinforcement learning`). A keyword of several words is a
phrase: its tokens must be contiguous. Followed authors compare as `storage.names` folds names
(`Rocktaschel` = `Rocktäschel`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.digest.models import Paper
from storage import glossary
from storage.analysis import MAX_TERMS, analyze_phrase, analyze_text, term_tokens
from storage.analysis import fold as fold_letters
from storage.names import normalize_name

# Between the token strings of a paper's texts: no token holds `|`, so no phrase spans two texts.
_BOUNDARY = " | "


@dataclass(frozen=True, slots=True)
class ChatFilters:
    """What a chat wants from a digest."""

    top_n: int = 10
    min_votes: int = 0
    include_keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    followed_authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Keyword:
    """A keyword ready to match: token phrases (any one matches), or folded text when it has none.

    Each phrase is its tokens joined and padded by single spaces (` reinforcement learn `), so a
    substring test on a paper's padded token string is a contiguous-phrase match.
    """

    phrases: tuple[str, ...]
    text: str  # folded keyword, used only when `phrases` is empty (emoji, punctuation)

    def matches(self, tokens: str) -> bool:
        """Whether a paper's padded token string holds one of the phrases."""
        return any(phrase in tokens for phrase in self.phrases)


def fold(text: str) -> str:
    """Text in the form keywords are compared in when they have no tokens: NFKC, case-folded,
    diacritics dropped, one-spaced."""
    return " ".join(fold_letters(unicodedata.normalize("NFKC", text)).split())


def _padded(tokens: Sequence[str]) -> str:
    """Tokens as a padded phrase string (` a b `), at most as many as /search would use."""
    return " " + " ".join(tokens[:MAX_TERMS]) + " "


def _own_phrases(word: str) -> list[str]:
    """The keyword's own padded phrases, before the glossary adds the other language's.

    One word gets the alternatives /search gives it (`storage.analysis.term_tokens`: particles
    stripped, hyphenated compounds split or joined); several words are a phrase, a compound in
    it as its parts (`analyze_phrase`), so hyphenated and spaced spellings match alike.
    """
    alternatives = term_tokens(word) if len(word.split()) == 1 else [analyze_phrase(word)]
    return [_padded(tokens) for tokens in alternatives if tokens]


@lru_cache(maxsize=1 << 15)  # distinct keywords over all chats; each entry is small
def keyword(word: str) -> Keyword:
    """How one include/exclude keyword matches (cached: every chat's keywords, every paper):
    its own phrases plus the glossary's translations of the whole keyword, as /search does."""
    phrases = _own_phrases(word)
    words = word.split()
    span, translations = glossary.longest_match(words) if words else (0, [])
    if words and span == len(words):
        phrases.extend(_padded(tokens) for tokens in map(analyze_phrase, translations) if tokens)
    unique = tuple(dict.fromkeys(phrases))
    return Keyword(unique, "" if unique else fold(word))


def keyword_key(word: str) -> frozenset[str]:
    """What makes two keywords the same entry: the same own phrases (`RL` and `rl`, `강화학습`
    and `강화 학습`, `models` and `model`; a translation like `RL` and `강화학습` stays apart)."""
    phrases = _own_phrases(word)
    return frozenset(phrases) if phrases else frozenset({"\0" + fold(word)})


def _texts(paper: Paper) -> list[str]:
    """Everything a keyword may match: title, summary titles and bullets, abstract."""
    parts = [paper.title, paper.abstract or ""]
    for section in paper.summary:
        parts.append(section.title or "")
        parts.extend(section.bullets)
    return parts


@lru_cache(maxsize=1024)
def _tokens(paper: Paper) -> str:
    """The paper's texts as one padded token string (see `Keyword`).

    Cached: a dispatch pass selects from the same papers for every chat that has keywords.
    """
    return " " + _BOUNDARY.join(analyze_text(text) for text in _texts(paper)) + " "


@lru_cache(maxsize=1024)
def _haystack(paper: Paper) -> str:
    """The paper's folded text, for the rare keyword without tokens (cached like `_tokens`)."""
    return fold("\n".join(_texts(paper)))


def keyword_matches(paper: Paper, word: str) -> bool:
    """Whether one keyword matches the paper (an empty keyword matches nothing)."""
    found = keyword(word)
    if found.phrases:
        return found.matches(_tokens(paper))
    return bool(found.text) and found.text in _haystack(paper)


def _matches(paper: Paper, keywords: Iterable[str]) -> bool:
    """Whether any keyword matches the paper."""
    return any(keyword_matches(paper, word) for word in keywords)


def follows(paper: Paper, followed: frozenset[str]) -> bool:
    """Whether an author of the paper is followed (`followed` holds `normalize_name` forms)."""
    return any(normalize_name(name) in followed for name in paper.authors)


def followed_spellings(papers: Sequence[Paper], followed_authors: Iterable[str]) -> frozenset[str]:
    """The papers' own spellings of the followed authors: the names the renderer marks ★.

    A chat following `Tim Rocktaschel` gets his paper selected and starred although the paper
    spells him `Tim Rocktäschel` (the renderer, being pure, compares names as given).
    """
    followed = frozenset(normalize_name(name) for name in followed_authors) - {""}
    if not followed:
        return frozenset()
    return frozenset(
        name for paper in papers for name in paper.authors if normalize_name(name) in followed
    )


def _passes(paper: Paper, filters: ChatFilters) -> bool:
    """Minimum votes (unknown counts as 0), include keywords (any), exclude keywords (none)."""
    if (paper.votes or 0) < filters.min_votes:
        return False
    if filters.include_keywords and not _matches(paper, filters.include_keywords):
        return False
    return not _matches(paper, filters.exclude_keywords)


def _by_votes(papers: Sequence[Paper]) -> list[Paper]:
    """Most votes first, unknown votes last; file order breaks ties (sort is stable)."""
    return sorted(
        papers, key=lambda paper: -1 if paper.votes is None else paper.votes, reverse=True
    )


def select_papers(papers: Sequence[Paper], filters: ChatFilters) -> list[Paper]:
    """The papers a chat gets, best first: the top N that pass its filters, plus every paper
    by a followed author (always included, whatever the filters say; the renderer marks them).

    An empty result means the chat gets nothing that day.
    """
    followed = frozenset(normalize_name(name) for name in filters.followed_authors) - {""}
    first: dict[str, Paper] = {}
    for paper in papers:
        first.setdefault(paper.arxiv_id, paper)
    unique = list(first.values())
    always = {paper.arxiv_id for paper in unique if followed and follows(paper, followed)}
    ranked = _by_votes([p for p in unique if p.arxiv_id not in always and _passes(p, filters)])
    chosen = {paper.arxiv_id for paper in ranked[: max(filters.top_n, 0)]} | always
    return [paper for paper in _by_votes(unique) if paper.arxiv_id in chosen]
