"""End-to-end tests of inline mode (`@bot query`) through the emulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.inline import MAX_OFFSET, PAGE_SIZE, SUBSCRIBE_PAYLOAD, parse_offset
from tests.chat.conftest import USER, ChatDriver

# The emulator's answerInlineQuery rejects results whose message text is invalid HTML or too
# long (a 400, which the bot would log as an error), so every answer read here was accepted.


async def _ask(
    chat: ChatDriver, query: str, *, offset: str = "", user: int = USER
) -> dict[str, Any]:
    """Type `@bot query` and return the bot's answerInlineQuery."""
    before = len(chat.emulator.inline_answers)
    update_id = chat.emulator.inline_query(user_id=user, query=query, offset=offset)
    await chat.processed(update_id)
    answers = chat.emulator.inline_answers[before:]
    assert len(answers) == 1, "every inline query is answered exactly once"
    return answers[0]


def _ids(answer: dict[str, Any]) -> list[str]:
    """The arXiv ids offered, in order."""
    return [str(result["id"]) for result in answer["results"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("20", 20), (str(MAX_OFFSET), MAX_OFFSET), ("999", None), ("-1", None), ("x", None)],
)
def test_parse_offset(text: str, expected: int | None) -> None:
    """Offsets Telegram echoes back are validated; forged ones are refused."""
    assert parse_offset(text) == expected


async def test_empty_query_offers_the_latest_digest(chat: ChatDriver) -> None:
    """`@bot` alone offers the newest digest's papers, most votes first, as shareable articles."""
    answer = await _ask(chat, "")
    results = answer["results"]
    assert results
    assert len(results) <= PAGE_SIZE
    first = results[0]
    assert first["type"] == "article"
    assert first["url"] == f"https://arxiv.org/abs/{first['id']}"
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert f'href="https://arxiv.org/abs/{first["id"]}"' in content["message_text"]
    assert answer["is_personal"] is True
    assert answer["button"] is None


async def test_query_finds_a_paper(chat: ChatDriver) -> None:
    """A title word finds the paper, with its authors and votes in the description."""
    answer = await _ask(chat, "DocLLM")
    assert _ids(answer)[0] == "2401.00908"
    first = answer["results"][0]
    assert "DocLLM" in first["title"]
    assert "👍 48" in first["description"]
    assert "Dongsheng Wang" in first["description"]
    assert answer["next_offset"] == ""  # one page holds every match


async def test_results_page_with_offsets(chat: ChatDriver) -> None:
    """A broad query pages through next_offset; the next page holds different papers."""
    first = await _ask(chat, "model")
    assert len(first["results"]) == PAGE_SIZE
    assert first["next_offset"] == str(PAGE_SIZE)
    second = await _ask(chat, "model", offset=first["next_offset"])
    assert second["results"]
    assert not set(_ids(first)) & set(_ids(second))


@pytest.mark.parametrize("offset", ["999", "abc", "-5", "1" * 50])
async def test_forged_offsets_get_an_empty_answer(chat: ChatDriver, offset: str) -> None:
    """Offsets the bot never handed out are answered with nothing, never an error."""
    answer = await _ask(chat, "model", offset=offset)
    assert answer["results"] == []
    assert answer["next_offset"] == ""


@pytest.mark.parametrize("query", ["zzqqxxnotaword", "x" * 10_000, "<b>&amp;", "🙂🙂"])
async def test_odd_queries_are_answered(chat: ChatDriver, query: str) -> None:
    """Unmatched, huge, HTML and emoji queries are answered; with no match, a button to /start."""
    answer = await _ask(chat, query)
    if not answer["results"]:
        assert answer["button"]["start_parameter"] == SUBSCRIBE_PAYLOAD
        assert "No archived paper matches" in answer["button"]["text"]


async def test_korean_user_gets_korean_results(chat: ChatDriver) -> None:
    """A user whose Telegram language is Korean gets Korean labels in the results."""
    chat.emulator.add_user(USER + 7, language_code="ko")
    answer = await _ask(chat, "zzqqxxnotaword", user=USER + 7)
    assert "일치하는 논문이 없습니다" in answer["button"]["text"]
    answer = await _ask(chat, "Humanity's Last Exam", user=USER + 7)
    assert any("외" in result["description"] for result in answer["results"])


async def test_results_holding_only_some_words_say_so(chat: ChatDriver) -> None:
    """A result the loose fallback found (only some of the query's words) says so first in its
    description, in the user's language; whole matches carry no such mark."""
    chat.emulator.add_user(USER + 8, language_code="ko")
    only = await _ask(chat, "트리 탐색", user=USER + 8)
    assert only["results"]
    assert all(r["description"].startswith("½ 검색어의 일부 단어만") for r in only["results"])
    mixed = await _ask(chat, "멀티모달 추론 벤치마크")
    marked = ["only some of the words" in r["description"] for r in mixed["results"]]
    assert marked[0] is False
    assert any(marked)
    assert marked == sorted(marked)  # whole matches first, then the partial ones
    whole = await _ask(chat, "DocLLM layout")
    assert whole["results"]
    assert not any("some of the words" in r["description"] for r in whole["results"])
