"""Per-chat paper selection (pure): top N by votes, minimum votes, keywords, followed authors."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.digest.models import Paper


@dataclass(frozen=True, slots=True)
class ChatFilters:
    """What a chat wants from a digest."""

    top_n: int = 10
    min_votes: int = 0
    include_keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    followed_authors: tuple[str, ...] = ()


def fold(text: str) -> str:
    """Text in the form keywords and names are compared in: NFKC, case-folded, one-spaced."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@lru_cache(maxsize=1024)
def _haystack(paper: Paper) -> str:
    """Everything a keyword may match: title, summary titles and bullets, abstract.

    Cached: a dispatch pass selects from the same papers for every chat that has keywords.
    """
    parts = [paper.title, paper.abstract or ""]
    for section in paper.summary:
        parts.append(section.title or "")
        parts.extend(section.bullets)
    return fold("\n".join(parts))


def _matches(haystack: str, keywords: Iterable[str]) -> bool:
    """Whether any non-empty keyword occurs in the folded text."""
    return any(key and key in haystack for key in (fold(word) for word in keywords))


def follows(paper: Paper, followed: frozenset[str]) -> bool:
    """Whether an author of the paper is followed (`followed` holds folded names)."""
    return any(fold(name) in followed for name in paper.authors)


def _passes(paper: Paper, filters: ChatFilters) -> bool:
    """Minimum votes (unknown counts as 0), include keywords (any), exclude keywords (none)."""
    if (paper.votes or 0) < filters.min_votes:
        return False
    if not (filters.include_keywords or filters.exclude_keywords):
        return True  # most chats: no need to fold the paper's text at all
    haystack = _haystack(paper)
    if filters.include_keywords and not _matches(haystack, filters.include_keywords):
        return False
    return not _matches(haystack, filters.exclude_keywords)


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
    followed = frozenset(fold(name) for name in filters.followed_authors if name.strip())
    first: dict[str, Paper] = {}
    for paper in papers:
        first.setdefault(paper.arxiv_id, paper)
    unique = list(first.values())
    always = {paper.arxiv_id for paper in unique if followed and follows(paper, followed)}
    ranked = _by_votes([p for p in unique if p.arxiv_id not in always and _passes(p, filters)])
    chosen = {paper.arxiv_id for paper in ranked[: max(filters.top_n, 0)]} | always
    return [paper for paper in _by_votes(unique) if paper.arxiv_id in chosen]
