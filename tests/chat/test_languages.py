"""Each chat reads its own language: Korean summaries in Korean chats, English text in English
ones, and /paper showing both with where the Korean summary came from (through the emulator)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from bot.digest import SummarySection, parse_digest
from storage.digest_store import store_digest
from storage.summaries import claim_summary, complete_summary
from tests.chat.conftest import USER, ChatDriver, texts

DAY = "2025-01-21"
MODEL = "test-model"
HANGUL = re.compile("[\uac00-\ud7a3]")
INJECTED_REPO = 'https://github.com/x/y"><b>repo'
MARKDOWN = f"""## Daily Papers ({DAY})

### [Korean Summary Paper](https://arxiv.org/abs/2501.11111)

Vote: 30

Authors: Ada Lovelace

- 한국어 요약 불릿입니다.
"""
HF_LIST = json.dumps(
    [
        {
            "paper": {
                "id": "2501.11111",
                "title": "Korean Summary Paper",
                "summary": "An English abstract of the first paper.",
                "ai_summary": "First paper in one English line.",
                "upvotes": 31,
                "authors": [{"name": "Ada Lovelace"}],
            }
        },
        {
            "paper": {
                "id": "2501.22222",
                "title": "English Only Paper",
                "summary": "Abstract with <script>alert(1)</script> & more. " * 12,
                "ai_summary": "TL;DR with <b>tags</b> & ampersands.",
                "githubRepo": INJECTED_REPO,
                "githubStars": 321,
                "projectPage": "https://example.org/p?a=1&b=2",
                "upvotes": 20,
                "authors": [{"name": "Alan Turing"}],
                "submittedOnDailyBy": {"name": "<Submitter>"},
            },
            "numComments": 4,
        },
        {
            "paper": {
                "id": "2501.33333",
                "title": "Generated Summary Paper",
                "summary": "An English abstract of the third paper.",
                "upvotes": 10,
                "authors": [{"name": "Grace Hopper"}],
            }
        },
    ]
)


@pytest.fixture
async def day(chat: ChatDriver) -> ChatDriver:
    """The archive also holds a day with a Markdown digest, an HF list and a generated summary."""
    now = dt.datetime(2025, 1, 21, 9, tzinfo=dt.UTC)
    async with chat.services.sessions.begin() as session:
        for text, source in ((MARKDOWN, f"{DAY}.md"), (HF_LIST, f"{DAY}.json")):
            await store_digest(session, digest=parse_digest(text, source=source), source=source)
        claimed = await claim_summary(
            session,
            arxiv_id="2501.33333",
            model=MODEL,
            prompt_version=1,
            worker="test",
            now=now,
            lease=dt.timedelta(minutes=5),
            daily_cap=10,
        )
        assert claimed == "claimed"
        await complete_summary(
            session,
            arxiv_id="2501.33333",
            model=MODEL,
            prompt_version=1,
            worker="test",
            sections=(SummarySection(title="What's New", bullets=("생성된 요약 불릿입니다.",)),),
            block="- 생성된 요약 불릿입니다.",
            attempts=1,
            prompt_tokens=1,
            completion_tokens=1,
            now=now,
        )
    return chat


def _links(chat: ChatDriver) -> set[str]:
    """Every URL the bot linked in the user's chat, as Telegram parsed the HTML."""
    return {
        str(entity["url"])
        for event in chat.emulator.chat_log(USER)
        for entity in event.entities
        if entity.get("type") == "text_link"
    }


async def test_korean_chat_gets_korean_summaries_else_marked_english(day: ChatDriver) -> None:
    """A Korean chat sees the source and generated Korean bullets, and marked English text."""
    text = texts(await day.send(f"/digest {DAY}", language_code="ko"))
    assert "• 한국어 요약 불릿입니다." in text
    assert "• 생성된 요약 불릿입니다." in text
    assert "🇬🇧 영문 요약\nTL;DR with <b>tags</b> & ampersands.\nAbstract with <script>" in text
    assert "First paper in one English line." not in text


async def test_english_chat_never_sees_hangul_bullets(day: ChatDriver) -> None:
    """An English chat sees each paper's English summary and abstract and no Korean at all."""
    text = texts(await day.send(f"/digest {DAY}", language_code="en"))
    assert not HANGUL.search(text)
    assert "First paper in one English line.\nAn English abstract of the first paper." in text
    assert "TL;DR with <b>tags</b> & ampersands." in text
    assert "An English abstract of the third paper." in text


async def test_paper_shows_provenance_and_both_languages(day: ChatDriver) -> None:
    """/paper shows the Korean summary with where it came from, then the English texts."""
    korean = texts(await day.send("/paper 2501.11111", language_code="ko"))
    assert "🇰🇷 한국어 요약 · daily_papers_ko 제공\n• 한국어 요약 불릿입니다." in korean
    assert "🇬🇧 영문 요약\nFirst paper in one English line.\n초록\nAn English abstract" in korean
    generated = texts(await day.send("/paper 2501.33333", language_code="en"))
    assert "🇰🇷 Korean summary · generated by paperboy (test-model)" in generated
    assert "• 생성된 요약 불릿입니다." in generated
    assert generated.index("English summary") < generated.index("Korean summary")
    missing = texts(await day.send("/paper 2501.22222", language_code="ko"))
    assert "🇰🇷 한국어 요약 · 아직 없음" in missing


async def test_paper_escapes_hf_details(day: ChatDriver) -> None:
    """HTML in the HF summary, abstract, repository and submitter arrives as literal text."""
    text = texts(await day.send("/paper 2501.22222", language_code="en"))
    assert "TL;DR with <b>tags</b> & ampersands." in text
    assert "Abstract with <script>alert(1)</script> & more." in text
    assert "GitHub ⭐ 321 · Project page" in text
    assert "💬 4 comments · 🙋 submitted by <Submitter>" in text
    assert {INJECTED_REPO, "https://example.org/p?a=1&b=2"} <= _links(day)
