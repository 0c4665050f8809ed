"""sendPhoto, sendPoll and stopPoll: accepted like Telegram, refused with Telegram's errors."""

from __future__ import annotations

import json
import struct
import zlib

import httpx
import pytest
import telegram

from bot.emulator import Emulator
from tests.emulator.conftest import TOKEN


def png(width: int, height: int) -> bytes:
    """A minimal valid PNG header of the given size (the emulator reads only IHDR)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    crc = struct.pack(">I", zlib.crc32(chunk))
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + crc


async def _photo(http: httpx.AsyncClient, data: bytes, caption: str = "") -> httpx.Response:
    """One multipart sendPhoto."""
    return await http.post(
        f"/bot{TOKEN}/sendPhoto",
        data={"chat_id": "5", "caption": caption, "parse_mode": "HTML"},
        files={"photo": ("chart.png", data, "image/png")},
    )


async def test_send_photo_reports_its_size(http: httpx.AsyncClient) -> None:
    """An uploaded PNG comes back as a PhotoSize with its width and height and the caption."""
    result = (await _photo(http, png(800, 420), "<b>c</b>")).json()["result"]
    assert result["caption"] == "c"
    assert (result["photo"][0]["width"], result["photo"][0]["height"]) == (800, 420)


@pytest.mark.parametrize(
    ("data", "caption", "error"),
    [
        (b"not an image", "", "IMAGE_PROCESS_FAILED"),
        (b"", "", "file must be non-empty"),
        (png(9000, 1001), "", "PHOTO_INVALID_DIMENSIONS"),
        (png(4000, 100), "", "PHOTO_INVALID_DIMENSIONS"),
        (png(10, 10), "x" * 1025, "message caption is too long"),
    ],
)
async def test_send_photo_refusals(
    http: httpx.AsyncClient, data: bytes, caption: str, error: str
) -> None:
    """Non-images, empty files, oversized or too narrow images and long captions are a 400."""
    response = await _photo(http, data, caption)
    assert response.status_code == 400
    assert response.json()["description"] == f"Bad Request: {error}"


async def _poll(http: httpx.AsyncClient, options: list[object], **extra: object) -> httpx.Response:
    """One sendPoll with JSON-encoded options."""
    body = {"chat_id": -5, "question": "Which?", "options": json.dumps(options)} | extra
    return await http.post(f"/bot{TOKEN}/sendPoll", data=body)


@pytest.mark.parametrize(
    ("options", "extra", "error"),
    [
        (["only one"], {}, "POLL_OPTIONS_COUNT_INVALID"),
        ([f"o{i}" for i in range(13)], {}, "POLL_OPTIONS_COUNT_INVALID"),
        (["a", "x" * 101], {}, "POLL_OPTION_INVALID"),
        (["a", " "], {}, "POLL_OPTION_INVALID"),
        (["a", "a"], {}, "POLL_ANSWERS_INVALID"),
        (["a", "b"], {"question": "q" * 301}, "POLL_QUESTION_INVALID"),
        (["a", "b"], {"question": ""}, "poll question must be non-empty"),
        ([{"text": "<b>a", "text_parse_mode": "HTML"}, "b"], {}, "can't parse entities"),
    ],
)
async def test_send_poll_refusals(
    http: httpx.AsyncClient, options: list[object], extra: dict[str, object], error: str
) -> None:
    """Option counts (2-12), option (1-100) and question (1-300) lengths, duplicates, bad HTML."""
    response = await _poll(http, options, **extra)
    assert response.status_code == 400
    assert response.json()["description"].startswith(f"Bad Request: {error}")


async def test_poll_votes_and_stop(bot: telegram.Bot, emulator: Emulator) -> None:
    """PTB sends a poll, users vote, stopPoll returns the final counts; a second stop is refused."""
    sent = await bot.send_poll(-5, "Which paper?", ["1. A", "2. B", "3. C"], is_anonymous=False)
    assert sent.poll is not None
    assert [option.text for option in sent.poll.options] == ["1. A", "2. B", "3. C"]
    for user, option in ((1, 1), (2, 1), (3, 0), (3, 2)):  # user 3 changes their mind
        emulator.vote_poll(chat_id=-5, user_id=user, message_id=sent.message_id, options=[option])
    final = await bot.stop_poll(-5, sent.message_id)
    assert final.is_closed
    assert [option.voter_count for option in final.options] == [0, 2, 1]
    assert final.total_voter_count == 3
    with pytest.raises(telegram.error.BadRequest, match="(?i)poll has already been closed"):
        await bot.stop_poll(-5, sent.message_id)
    text = await bot.send_message(-5, "not a poll")
    with pytest.raises(telegram.error.BadRequest, match="(?i)message with poll to stop not found"):
        await bot.stop_poll(-5, text.message_id)


async def test_non_anonymous_poll_refused_in_channels(
    bot: telegram.Bot, emulator: Emulator
) -> None:
    """Channels take anonymous polls only, as Telegram."""
    emulator.state.add_chat(-1009, type="channel")
    with pytest.raises(telegram.error.BadRequest, match="(?i)non-anonymous polls"):
        await bot.send_poll(-1009, "Which?", ["a", "b"], is_anonymous=False)
    assert (await bot.send_poll(-1009, "Which?", ["a", "b"])).poll is not None
