"""End-to-end tests of /today, /digest, /paper, /author and /search through the emulator."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from bot.digest import parse_digest
from bot.digest.refs import parse_paper_ref
from handlers.cache import VERSION_EVERY
from handlers.lookup import KEPT_SEARCHES, parse_day
from storage import chats
from storage.digest_store import store_digest
from tests.chat.conftest import USER, ChatDriver, Reply, texts

# `chat` is the shared fixture (tests/chat/conftest.py): the real Application long-polling the
# emulator over loopback HTTP, with a SQLite archive holding the bundled samples. The emulator
# rejects invalid HTML and over-long messages with a 400, so every reply checked here parsed.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.00908", "2401.00908"),
        ("2401.00908v2", "2401.00908"),
        ("arXiv:2401.00908v3", "2401.00908"),
        ("https://arxiv.org/abs/2401.00908v2", "2401.00908"),
        ("arxiv.org/pdf/2401.00908v1.pdf", "2401.00908"),
        ("https://huggingface.co/papers/2401.00908?x=1#y", "2401.00908"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("https://arxiv.org/abs/", None),
        ("https://example.com/abs/2401.00908", None),
        ("<b>2401.00908</b>", None),
    ],
)
def test_parse_paper_ref(text: str, expected: str | None) -> None:
    """Ids and arxiv.org / HF links with or without a version give the bare id; others None."""
    assert parse_paper_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-01-03", dt.date(2024, 1, 3)), ("2024-13-45", None), ("2024-1-3", None), ("x", None)],
)
def test_parse_day(text: str, expected: dt.date | None) -> None:
    """Only real YYYY-MM-DD dates parse."""
    assert parse_day(text) == expected


async def test_paper_by_id_and_url(chat: ChatDriver) -> None:
    """/paper with an id or a versioned URL shows summary, votes, authors, links and days."""
    for ref in (
        "2401.00908",
        "https://arxiv.org/abs/2401.00908v2",
        "huggingface.co/papers/2401.00908",
    ):
        text = texts(await chat.send(f"/paper {ref}"))
        assert "DocLLM" in text
        assert "👍 48" in text
        assert "Dongsheng Wang" in text
        assert "경계 상자" in text  # the Korean summary
        assert "2024-01-03" in text
        assert {
            "https://arxiv.org/abs/2401.00908",
            "https://arxiv.org/pdf/2401.00908",
            "https://huggingface.co/papers/2401.00908",
        } <= _links(chat, USER)


def _links(chat: ChatDriver, chat_id: int) -> set[str]:
    """Every URL the bot linked in a chat (text_link entities, as Telegram parsed the HTML)."""
    return {
        str(entity["url"])
        for event in chat.emulator.chat_log(chat_id)
        for entity in event.entities
        if entity.get("type") == "text_link"
    }


async def test_paper_from_json_digest(chat: ChatDriver) -> None:
    """A paper only the HF JSON sample carries shows its abstract (or says there is no summary)."""
    text = texts(await chat.send("/paper 2501.05441"))
    assert "2025-01-10" in text
    assert "Abstract" in text or "No summary yet" in text


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("", "/paper 2401.00908"),
        ("x" * 10_000, "is not an arXiv id"),
        ("<script>&amp;", "“<script>&amp;” is not an arXiv id"),
        ("🙂🙂", "“🙂🙂” is not an arXiv id"),
        ("9999.99999", "9999.99999 is not in the archive"),
        ("https://arxiv.org/abs/", "is not an arXiv id"),
        ("https://example.com/abs/2401.00908", "is not an arXiv id"),
    ],
)
async def test_paper_bad_input_gets_a_reply(chat: ChatDriver, argument: str, expected: str) -> None:
    """Missing, huge, HTML, emoji, unknown and malformed arguments each get one helpful reply."""
    replies = await chat.send(f"/paper {argument}".strip())
    assert len(replies) == 1
    assert expected in replies[0].text
    assert len(replies[0].text) < 300  # a 10 KB argument is not echoed back


async def test_paper_in_korean(chat: ChatDriver) -> None:
    """A Korean-speaking user gets Korean labels and errors."""
    text = texts(await chat.send("/paper 2401.00908", language_code="ko"))
    assert "소개된 날" in text
    error = texts(await chat.send("/paper 0000.00000", language_code="ko"))
    assert "보관소에 없습니다" in error


async def test_deep_link_opens_a_paper(chat: ChatDriver) -> None:
    """/start paper_2401_00908 (a t.me deep link) opens the paper through the same look-up."""
    assert "DocLLM" in texts(await chat.send("/start paper_2401_00908"))


def _ranks(text: str) -> list[int]:
    """The ranks `N.` that start digest entries."""
    return [int(match) for match in re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)]


async def test_today_shows_latest_digest(chat: ChatDriver) -> None:
    """/today shows the newest sample digest, top ten by votes, links without previews."""
    replies = await chat.send("/today")
    text = texts(replies)
    assert "2025-01-30" in text
    assert _ranks(text) == list(range(1, len(_ranks(text)) + 1))
    assert 1 <= len(_ranks(text)) <= 10
    votes = [int(v) for v in (chunk.split()[0] for chunk in text.split("👍 ")[1:]) if v.isdigit()]
    assert votes == sorted(votes, reverse=True)


async def _configure(chat: ChatDriver, chat_id: int, **changes: Any) -> None:
    """Store settings for a chat directly (the /settings menu has its own tests)."""
    async with chat.services.sessions() as session, session.begin():
        await chats.upsert_chat(
            session,
            chat_id=chat_id,
            type="private" if chat_id > 0 else "group",
            title="t",
            delivery_time="09:00",
            timezone="Asia/Seoul",
        )
        await chats.update_settings(session, chat_id=chat_id, **changes)


async def test_digests_follow_the_chat_settings(chat: ChatDriver) -> None:
    """/today and /digest apply the chat's top N, and always add followed authors' papers."""
    await _configure(chat, USER, top_n=2, followed_authors=["Chen Change LOY"])
    text = texts(await chat.send("/digest 2025-01-27"))
    assert _ranks(text) == [1, 2, 3]
    assert "3 of 12 papers" in text
    assert "★ Denoising as Adaptation" in text  # 0 votes, but by a followed author
    assert _ranks(texts(await chat.send("/today")))[-1] == 2
    await _configure(chat, USER, top_n=10, followed_authors=[], include_keywords=["zzqq-never"])
    replies = await chat.send("/today")
    assert len(replies) == 1
    assert "no paper that passes" in replies[0].text


async def test_digest_for_a_day(chat: ChatDriver) -> None:
    """/digest YYYY-MM-DD shows that day's papers."""
    text = texts(await chat.send("/digest 2024-01-03"))
    assert "DocLLM" in text
    assert "2024-01-03" in text


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("", "/digest 2024-06-03"),
        ("2024-13-45", "is not a date"),
        ("yesterday", "“yesterday” is not a date"),
        ("<b>&", "“<b>&” is not a date"),
        ("🙂" * 5_000, "is not a date"),
        ("2999-01-01", "2999-01-01 is in the future"),
        ("2025-01-31", "2025-01-31 is in the future"),  # the fixture's clock: 2025-01-30 KST
        ("2020-01-01", "no digest for 2020-01-01"),
    ],
)
async def test_digest_bad_dates(chat: ChatDriver, argument: str, expected: str) -> None:
    """Missing, malformed, HTML, emoji, future and absent dates each get one helpful reply."""
    replies = await chat.send(f"/digest {argument}".strip())
    assert len(replies) == 1
    assert expected in replies[0].text


async def test_author_tolerates_case_and_diacritics(chat: ChatDriver) -> None:
    """/author matches folded names: `rafal POSWIATA` finds Rafał Poświata's papers."""
    text = texts(await chat.send("/author rafal POSWIATA"))
    assert "Papers by Rafał Poświata" in text
    assert "1. " in text


async def test_author_choice_buttons(chat: ChatDriver) -> None:
    """A partial name matching several authors offers buttons; pressing one lists the papers."""
    replies = await chat.send("/author wang")
    assert "Which one?" in replies[-1].text
    buttons = replies[-1].buttons
    assert len(buttons) > 1
    assert all(
        button.callback_data and button.callback_data.startswith("au:") for button in buttons
    )
    done = await chat.press(replies[-1], buttons[0].callback_data)
    edits = [reply for reply in done if reply.kind == "edit"]
    assert len(edits) == 1
    assert "Papers by" in edits[0].text
    assert [reply.kind for reply in done].count("answer") == 1


@pytest.mark.parametrize("data", ["au:999999999", "au:x", "au:", "au:1" + "0" * 40])
async def test_forged_author_buttons(chat: ChatDriver, data: str) -> None:
    """An author button naming nobody gets a polite alert and changes nothing."""
    message = (await chat.send("/author wang"))[-1]
    done = await chat.press(message, data)
    assert [reply.kind for reply in done] == ["answer"]
    assert done[0].show_alert
    assert "expired" in done[0].text


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("", "/author Yann LeCun"),
        ("x" * 10_000, "No archived paper lists an author"),
        ("<b>&amp;", "“<b>&amp;”"),
        ("🙂", "“🙂”"),
        ("zzqqxx", "“zzqqxx”"),
    ],
)
async def test_author_bad_input(chat: ChatDriver, argument: str, expected: str) -> None:
    """Missing, huge, HTML, emoji and unknown names get one helpful reply."""
    replies = await chat.send(f"/author {argument}".strip())
    assert len(replies) == 1
    assert expected in replies[0].text


def _button(reply: Reply, text: str) -> str:
    """The callback data of the button labelled `text`."""
    data = next(button.callback_data for button in reply.buttons if button.text == text)
    assert data is not None
    return data


async def test_search_pagination(chat: ChatDriver) -> None:
    """/search pages with ◀ n/m ▶ buttons, each page edited in place."""
    replies = await chat.send("/search model")
    assert len(replies) == 1
    page = replies[0]
    assert "Search: model" in page.text
    assert "1. " in page.text
    assert [b.text for b in page.buttons][-1] == "▶"
    done = await chat.press(page, _button(page, "▶"))
    edit = next(reply for reply in done if reply.kind == "edit")
    assert "6. " in edit.text
    assert [b.text for b in edit.buttons if not b.text.startswith("⭐")][0] == "◀"
    assert [b.text for b in edit.buttons][:2] == ["⭐ 6", "⭐ 7"]  # saves, numbered like lines
    assert [reply.kind for reply in done].count("answer") == 1
    counter = next(b for b in edit.buttons if "/" in b.text)
    done = await chat.press(edit, counter.callback_data)
    assert [reply.kind for reply in done] == ["answer"]
    assert not done[0].show_alert


@pytest.mark.parametrize("data", ["s:deadbeef:1", "s:bogus", "s:", "zzz", "", "s:00000000:999"])
async def test_forged_search_buttons(chat: ChatDriver, data: str) -> None:
    """Forged page data (unknown token, bad shape, unknown prefix) gets one polite alert."""
    page = (await chat.send("/search model"))[0]
    done = await chat.press(page, data)
    assert [reply.kind for reply in done] == ["answer"]
    assert done[0].show_alert
    assert "expired" in done[0].text


async def test_search_page_past_the_end_is_expired(chat: ChatDriver) -> None:
    """A real token with a page number past the results is answered as expired."""
    page = (await chat.send("/search model"))[0]
    token = _button(page, "▶").split(":")[1]
    done = await chat.press(page, f"s:{token}:999")
    assert [reply.kind for reply in done] == ["answer"]
    assert "expired" in done[0].text


async def test_old_search_buttons_expire(chat: ChatDriver) -> None:
    """Only the newest searches of a chat keep working buttons; older ones answer politely."""
    first = (await chat.send("/search model"))[0]
    for number in range(KEPT_SEARCHES):
        await chat.send("/search model", user=USER + 1 + number, chat=USER)
    done = await chat.press(first, _button(first, "▶"))
    assert [reply.kind for reply in done] == ["answer"]
    assert "expired" in done[0].text


async def test_settings_buttons_are_not_answered_twice(chat: ChatDriver) -> None:
    """The catch-all for unknown buttons leaves presses other modules handle alone."""
    menu = (await chat.send("/settings"))[-1]
    data = menu.buttons[0].callback_data
    done = await chat.press(menu, data)
    assert [reply.kind for reply in done].count("answer") == 1


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("", "/search diffusion video"),
        ("x" * 10_000, "Nothing in the archive matches"),
        ("<b>&amp;", "“<b>&amp;”"),
        ("🙂", "“🙂”"),
        ("zzqqxxnotaword", "“zzqqxxnotaword”"),
        ('"unclosed AND OR -', "Nothing in the archive matches"),
    ],
)
async def test_search_bad_input(chat: ChatDriver, argument: str, expected: str) -> None:
    """Missing, huge, HTML, emoji, unmatched and odd-syntax queries get one helpful reply."""
    replies = await chat.send(f"/search {argument}".strip())
    assert len(replies) == 1
    assert expected in replies[0].text


async def test_search_says_when_results_hold_only_some_words(chat: ChatDriver) -> None:
    """No paper has every word: the header says the results match some of them. Some do: a
    line marks where the papers holding only some words begin. In Korean and in English."""
    await chat.send("/settings lang ko")
    only = (await chat.send("/search 트리 탐색"))[0].text
    assert "모든 단어가 들어간 논문은 없어" in only
    mixed = (await chat.send("/search 멀티모달 추론 벤치마크"))[0].text
    assert "모든 단어가 들어간 논문은 없어" not in mixed
    lines = mixed.splitlines()
    divider = next(n for n, line in enumerate(lines) if "일부 단어만 맞는 논문" in line)
    assert lines[divider - 1].startswith("1. ")
    assert lines[divider + 1].startswith("2. ")
    await chat.send("/settings lang en")
    assert "No paper holds every word" in (await chat.send("/search 트리 탐색"))[0].text
    assert "only some of the words" in (await chat.send("/search 멀티모달 추론 벤치마크"))[0].text
    whole = (await chat.send("/search diffusion video"))[0].text
    assert "some of the words" not in whole
    assert "some of them" not in whole


async def test_search_korean_and_in_a_group(chat: ChatDriver) -> None:
    """Korean words find papers through their Korean summaries, in a group chat too."""
    replies = await chat.send("/search 경계 상자", chat=-100123)
    assert "DocLLM" in texts(replies)


async def test_lookups_in_a_channel(chat: ChatDriver) -> None:
    """Commands posted in a channel are answered there."""
    assert "DocLLM" in texts(await chat.post("/paper 2401.00908", chat=-1001234567890))


NEW_DAY = """## Daily Papers (2025-02-03)

### [A Paper Ingested While The Bot Runs](https://arxiv.org/abs/2502.99999)

Vote: 7

Authors: Fresh Author

- 방금 들어온 논문입니다.
"""


async def test_a_new_digest_shows_in_lookups_within_a_second(chat: ChatDriver) -> None:
    """Look-ups are cached, but the cache is dropped once the archive's version changes."""
    assert "not in the archive" in texts(await chat.send("/paper 2502.99999"))
    today = texts(await chat.send("/today"))
    async with chat.services.sessions.begin() as session:
        digest = parse_digest(NEW_DAY, source="new.md")
        await store_digest(session, digest=digest, source="new.md")
    # Within the check interval the cached answers stand (that is what the cache is for)...
    assert texts(await chat.send("/today")) == today
    chat.clock.advance(VERSION_EVERY)
    # ...and one interval later the new digest is what the bot shows.
    assert "A Paper Ingested While The Bot Runs" in texts(await chat.send("/paper 2502.99999"))
    assert "A Paper Ingested While The Bot Runs" in texts(await chat.send("/today"))
