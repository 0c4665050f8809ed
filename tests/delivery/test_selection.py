"""Per-chat selection: top N by votes, minimum votes, keywords, followed authors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.digest.models import Paper, SummarySection
from bot.edition.compose import PlannedRow, plan_row
from bot.edition.selection import ChatFilters, select_papers
from storage.chats import Chat


def make_paper(
    arxiv_id: str,
    votes: int | None = 1,
    title: str = "A paper",
    bullets: tuple[str, ...] = (),
    authors: tuple[str, ...] = (),
    abstract: str | None = None,
) -> Paper:
    """A paper with just the fields selection looks at."""
    summary = (SummarySection(title="What's New", bullets=bullets),) if bullets else ()
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        link=f"https://arxiv.org/abs/{arxiv_id}",
        votes=votes,
        authors=authors,
        summary=summary,
        abstract=abstract,
    )


def _ids(papers: list[Paper]) -> list[str]:
    """The arXiv ids, in order."""
    return [paper.arxiv_id for paper in papers]


def test_top_n_by_votes_even_when_unsorted() -> None:
    """The file order is not the vote order: the top N come out best first, unknown votes last."""
    papers = [
        make_paper("1", 5),
        make_paper("2", None),
        make_paper("3", 40),
        make_paper("4", 12),
        make_paper("5", 12),
    ]
    assert _ids(select_papers(papers, ChatFilters(top_n=3))) == ["3", "4", "5"]
    assert _ids(select_papers(papers, ChatFilters(top_n=10))) == ["3", "4", "5", "1", "2"]


def test_minimum_votes() -> None:
    """Papers under the minimum (and with unknown votes) are left out."""
    papers = [make_paper("1", 5), make_paper("2", None), make_paper("3", 40)]
    assert _ids(select_papers(papers, ChatFilters(min_votes=10))) == ["3"]


def test_keywords_match_titles_and_summaries_in_korean_and_english() -> None:
    """Include keywords match case-insensitively in titles or Korean summaries; exclude wins."""
    papers = [
        make_paper("1", 9, title="Diffusion Models for VIDEO"),
        make_paper("2", 8, bullets=("새로운 강화학습 방법을 제안합니다",)),
        make_paper("3", 7, title="Video agents", bullets=("강화학습",)),
        make_paper("4", 6, title="Unrelated"),
    ]
    wanted = ChatFilters(include_keywords=("video", "강화학습"))
    assert _ids(select_papers(papers, wanted)) == ["1", "2", "3"]
    unwanted = ChatFilters(include_keywords=("video", "강화학습"), exclude_keywords=("AGENTS",))
    assert _ids(select_papers(papers, unwanted)) == ["1", "2"]


def test_followed_authors_always_included() -> None:
    """A followed author's paper comes through any filter, in vote order with the rest."""
    papers = [
        make_paper("1", 50),
        make_paper("2", 1, authors=("Ada  Lovelace",)),
        make_paper("3", 30),
    ]
    filters = ChatFilters(top_n=1, min_votes=10, followed_authors=("ada lovelace",))
    assert _ids(select_papers(papers, filters)) == ["1", "2"]


def test_empty_selection_and_duplicates() -> None:
    """Nothing passing means nothing to send; a paper listed twice is selected once."""
    papers = [make_paper("1", 3), make_paper("1", 3), make_paper("2", 2)]
    assert select_papers(papers, ChatFilters(min_votes=100)) == []
    assert _ids(select_papers(papers, ChatFilters())) == ["1", "2"]


def _private_chat(**settings: Any) -> Chat:
    """A private chat row with the default settings and `settings`."""
    defaults: dict[str, Any] = {
        "delivery_time": "09:00",
        "timezone": "Asia/Seoul",
        "top_n": 10,
        "min_votes": 0,
        "include_keywords": [],
        "exclude_keywords": [],
        "followed_authors": [],
    }
    return Chat(chat_id=7, type="private", **{**defaults, **settings})


def _plan(chat: Chat, papers: list[Paper], **options: Any) -> PlannedRow:
    """The chat's outbox row for one digest day (kind digest, default language ko)."""
    return plan_row(
        chat=chat,
        date=dt.date(2024, 1, 3),
        papers=papers,
        digest_id=1,
        kind="digest",
        seq=0,
        now=dt.datetime(2024, 1, 3, tzinfo=dt.UTC),
        **{"default_language": "ko", **options},
    )


def test_followed_spellings_are_the_papers_own() -> None:
    """The ★ names come from the papers, matched however the chat spelled the author."""
    from bot.edition.selection import followed_spellings

    papers = [
        make_paper("2401.00001", 5, authors=("Tim Rocktäschel", "Ada Lovelace")),
        make_paper("2401.00002", 3, authors=("Grace Hopper",)),
    ]
    assert followed_spellings(papers, ["tim rocktaschel", "GRACE  HOPPER"]) == {
        "Tim Rocktäschel",
        "Grace Hopper",
    }
    assert followed_spellings(papers, []) == frozenset()
    assert followed_spellings(papers, ["  "]) == frozenset()


def test_a_delivered_digest_stars_an_author_followed_without_accents() -> None:
    """End to end through plan_row: the message marks the paper whose author is followed."""
    chat = _private_chat(language="en", followed_authors=["Tim Rocktaschel"])
    papers = [make_paper("2401.00001", 5, title="Open-Endedness", authors=("Tim Rocktäschel",))]
    planned = _plan(chat, papers, default_language="en")
    assert '★ <b><a href="https://arxiv.org/abs/2401.00001">Open-Endedness' in "".join(
        planned.row["messages"]
    )


def test_a_private_chat_on_automatic_gets_its_users_language() -> None:
    """DEFAULT_LANGUAGE is ko, the user's Telegram is in English: the late digest says so in
    English (`⏰ late`), as the chat's commands are answered."""
    chat = _private_chat(language=None, user_language="en")
    planned = _plan(chat, [make_paper("2401.00001", 5, title="Open-Endedness")], late=True)
    text = "".join(planned.row["messages"])
    assert "⏰ late" in text
    assert "지연" not in text
