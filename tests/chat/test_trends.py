"""End-to-end tests of /trends (a PNG chart per topic over the archive) through the emulator."""

from __future__ import annotations

import pytest

from bot.emulator.methods import image_size
from bot.render.chart import month_axis
from handlers.cache import read_cache
from handlers.trends import parse_topics
from tests.chat.conftest import USER, ChatDriver, texts


def test_parse_topics() -> None:
    """Topics split on `vs` (any case), trimmed, repeats and blanks dropped."""
    assert parse_topics("diffusion VS 강화학습 vs. agent vs diffusion") == [
        "diffusion",
        "강화학습",
        "agent",
    ]
    assert parse_topics("  ") == []


def test_month_axis_fills_gaps() -> None:
    """The x axis runs month by month from the first to the last, across years."""
    assert month_axis(["2024-11", "2025-02"]) == ["2024-11", "2024-12", "2025-01", "2025-02"]


def _photo(chat: ChatDriver) -> tuple[bytes, str]:
    """The bytes and caption of the bot's newest photo in the private chat."""
    message = [m for m in chat.emulator.messages(USER) if m.photo is not None][-1]
    assert message.photo is not None
    return chat.emulator.state.files[message.photo[0]["file_id"]].data, message.text


@pytest.mark.parametrize(
    ("language", "caption"), [("en", "Papers per month"), ("ko", "월별 논문 수")]
)
async def test_trends_sends_a_png_chart(chat: ChatDriver, language: str, caption: str) -> None:
    """/trends a vs b: one PNG with a caption counting each topic's papers."""
    await chat.send("/trends diffusion vs 언어 모델", language_code=language)
    data, text = _photo(chat)
    assert data.startswith(b"\x89PNG")
    width, height = image_size(data) or (0, 0)
    assert (width, height) == (800, 420)
    assert caption in text
    assert "diffusion" in text
    assert "언어 모델" in text
    cache = read_cache(chat.application)  # type: ignore[arg-type]
    assert any(isinstance(key, tuple) and key[0] == "trends" for key in cache.entries)


@pytest.mark.parametrize(
    ("command", "language", "expected"),
    [
        ("/trends", "en", "Which topic?"),
        ("/trends", "ko", "어떤 주제인가요?"),
        ("/trends a vs b vs c vs d vs e", "en", "Up to 4 topics"),
        ("/trends !!! vs diffusion", "en", "has no word I can search for"),
        ("/trends zzqxv", "en", "No archived paper matches “zzqxv”"),
        ("/trends zzqxv", "ko", "아카이브에 없어요"),
        ("/trends " + "q" * 5000, "en", "No archived paper matches"),
    ],
)
async def test_trends_bad_input(
    chat: ChatDriver, command: str, language: str, expected: str
) -> None:
    """No topic, too many, nothing searchable, no matches, 5 KB: a clear reply, no photo."""
    assert expected in texts(await chat.send(command, language_code=language))
    assert not [m for m in chat.emulator.messages(USER) if m.photo is not None]
