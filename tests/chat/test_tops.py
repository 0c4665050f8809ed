"""End-to-end tests of /week and /month (top papers by latest votes, paged) through the emulator."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from handlers.tops import parse_period
from storage import votes
from tests.chat.conftest import ChatDriver, texts


@pytest.mark.parametrize(
    ("kind", "text", "start", "end"),
    [
        ("w", "2025-W05", dt.date(2025, 1, 27), dt.date(2025, 2, 2)),
        ("w", "2025w5", dt.date(2025, 1, 27), dt.date(2025, 2, 2)),
        ("w", "2020-W53", dt.date(2020, 12, 28), dt.date(2021, 1, 3)),
        ("m", "2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("m", "2024-12", dt.date(2024, 12, 1), dt.date(2024, 12, 31)),
    ],
)
def test_parse_period(kind: str, text: str, start: dt.date, end: dt.date) -> None:
    """ISO weeks and months parse to their first and last day."""
    period = parse_period(kind, text)  # type: ignore[arg-type]
    assert period is not None
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("w", "2025-W54"),
        ("w", "2025-W00"),
        ("w", "2021-W53"),
        ("w", "x"),
        ("m", "2024-13"),
        ("m", "2024-00"),
        ("m", "2024-1-1"),
    ],
)
def test_parse_period_rejects(kind: str, text: str) -> None:
    """Weeks and months that do not exist are refused."""
    assert parse_period(kind, text) is None  # type: ignore[arg-type]


def _ranks(text: str) -> list[int]:
    """The vote counts of the listed papers, in order."""
    return [int(v) for v in re.findall(r"👍 (\d+)", text)]


async def test_week_ranks_by_latest_votes(chat: ChatDriver) -> None:
    """/week lists this week's papers by their latest votes, a moved vote count reordering them."""
    replies = await chat.send("/week")
    text = texts(replies)
    assert "2025-W05" in text
    assert "2025-01-27" in text
    counts = _ranks(text)
    assert counts == sorted(counts, reverse=True)
    assert len(counts) == 10
    assert [b.text for b in replies[-1].buttons][-1] == "▶"
    async with chat.services.sessions.begin() as session:
        await votes.record_votes(session, votes={"2501.17161": 9999}, now=chat.clock())
    chat.clock.advance(120)  # past the read cache's time to live
    text = texts(await chat.send("/week 2025-W05"))
    assert _ranks(text)[0] == 9999


async def test_week_pages_and_forged_buttons(chat: ChatDriver) -> None:
    """The ▶ button edits in the next page; forged or out-of-range data gets a polite alert."""
    first = (await chat.send("/week 2025-W05"))[-1]
    forward = next(b for b in first.buttons if b.text == "▶")
    events = await chat.press(first, forward.callback_data)
    edit = next(e for e in events if e.kind == "edit")
    assert "11. " in edit.text
    for data in ("top:w:2025-W05:9", "top:w:2025-W99:1", "top:m:2025-13:0", "top:x", "top:w:"):
        events = await chat.press(first, data)
        answer = next(e for e in events if e.kind == "answer")
        assert answer.show_alert
        assert "expired" in answer.text


@pytest.mark.parametrize(
    ("command", "language", "expected"),
    [
        ("/week 2025-W54", "en", "is not a week"),
        ("/week 2025-W54", "ko", "주가 아니에요"),
        ("/month 2025-13", "en", "is not a month"),
        ("/month banana", "ko", "월이 아니에요"),
        ("/week 2030-W01", "en", "has not started yet"),
        ("/month 2020-05", "en", "no papers from 2020-05. The newest are in /month 2025-01"),
        ("/month 2020-05", "ko", "2020-05 논문이 없어요. 가장 최근 논문은 /month 2025-01"),
        ("/week 2024-W30", "en", "no papers from 2024-W30. The newest are in /week 2025-W05"),
        ("/week " + "x" * 5000, "en", "is not a week"),
    ],
)
async def test_bad_periods(chat: ChatDriver, command: str, language: str, expected: str) -> None:
    """Unknown, future and empty periods get a clear reply in the user's language."""
    assert expected in texts(await chat.send(command, language_code=language))


async def test_month_in_korean(chat: ChatDriver) -> None:
    """/month in Korean: this month's papers with a Korean header."""
    text = texts(await chat.send("/month", language_code="ko"))
    assert "2025-01 인기 논문" in text
    counts = _ranks(text)
    assert counts == sorted(counts, reverse=True)
    text = texts(await chat.send("/month 2024-01", language_code="ko"))
    assert "DocLLM" in text


@pytest.mark.parametrize("language", ["en", "ko"])
async def test_an_archive_that_stopped_shows_its_newest_period(
    chat: ChatDriver, language: str
) -> None:
    """Months after the last digest, /week and /month show the newest week and month that
    have papers, not an empty reply."""
    chat.clock.advance(90 * 86_400)
    text = texts(await chat.send("/week", language_code=language))
    assert "2025-W05" in text
    assert len(_ranks(text)) == 10
    assert "2025-01" in texts(await chat.send("/month", language_code=language))
