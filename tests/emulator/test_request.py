"""bot.telegram.request.AiohttpRequest end to end: PTB's Bot over loopback HTTP to the emulator."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.emulator import Emulator
from bot.telegram.request import AiohttpRequest, ConnectionLost, _redact
from tests.emulator.conftest import TOKEN


def _bot(base_url: str, base_file_url: str, request: AiohttpRequest) -> telegram.Bot:
    return telegram.Bot(
        TOKEN,
        base_url=base_url,
        base_file_url=base_file_url,
        request=request,
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[telegram.Bot]:
    """A Bot whose HTTP goes through AiohttpRequest (short read timeout)."""
    request = AiohttpRequest(read_timeout=0.3, connect_timeout=2.0)
    async with _bot(emulator.base_url, emulator.base_file_url, request) as ptb:
        yield ptb


def _free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_messages_keyboards_and_updates(bot: telegram.Bot, emulator: Emulator) -> None:
    """JSON parameters arrive intact: HTML, a keyboard, a reply; getUpdates long-polls."""
    assert (await bot.get_me()).username == "paperboy_emulated_bot"
    first = await bot.send_message(7, "<b>Bold</b> &amp; 한국어", parse_mode=ParseMode.HTML)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="s:1")]])
    reply = await bot.send_message(
        7, "second", reply_markup=keyboard, reply_to_message_id=first.message_id
    )
    assert first.text == "Bold & 한국어"
    assert first.entities[0].type == "bold"
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == first.message_id
    assert emulator.messages(7)[1].reply_markup == keyboard.to_dict()
    update_id = emulator.send_text(chat_id=7, user_id=7, text="/paper 2401.00001")
    updates = await bot.get_updates(timeout=1)
    assert [update.update_id for update in updates] == [update_id]
    assert updates[0].message is not None
    assert updates[0].message.text == "/paper 2401.00001"


async def test_telegram_errors_come_through(bot: telegram.Bot) -> None:
    """The emulator's 400 for invalid HTML reaches the caller as BadRequest."""
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(7, "<b>unclosed", parse_mode=ParseMode.HTML)


async def test_document_upload_and_download(bot: telegram.Bot, emulator: Emulator) -> None:
    """Files go as multipart with their name and type; the download returns the bytes."""
    sent = await bot.send_document(
        7,
        b"id,title\n1,Paper\n",
        filename="papers.csv",
        caption="<i>export</i>",
        parse_mode=ParseMode.HTML,
    )
    assert sent.document is not None
    assert sent.document.file_name == "papers.csv"
    assert sent.caption == "export"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"id,title\n1,Paper\n"


async def test_slow_answer_times_out(bot: telegram.Bot, emulator: Emulator) -> None:
    """An answer later than the read timeout raises TimedOut (the message was recorded)."""
    emulator.add_fault("delay", method="sendMessage", seconds=30)
    with pytest.raises(TimedOut):
        await bot.send_message(1, "ambiguous")
    assert emulator.texts(1) == ["ambiguous"]


async def test_dropped_connection_is_a_network_error(bot: telegram.Bot, emulator: Emulator) -> None:
    """A connection closed without an answer raises ConnectionLost (its outcome is unknown);
    the next call works."""
    emulator.add_fault("drop", method="sendMessage")
    with pytest.raises(ConnectionLost, match="aiohttp"):
        await bot.send_message(1, "dropped")
    assert (await bot.send_message(1, "again")).text == "again"


async def test_unreachable_server_without_the_token() -> None:
    """Nobody listening: NetworkError, and the token is in no error text."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    request = AiohttpRequest(connect_timeout=2.0)
    async with AiohttpRequest() as updates_request:
        ptb = telegram.Bot(
            TOKEN, base_url=f"{base}/bot", request=request, get_updates_request=updates_request
        )
        await request.initialize()
        try:
            with pytest.raises(NetworkError) as caught:
                await ptb.send_message(1, "x")
        finally:
            await request.shutdown()
    assert not isinstance(caught.value, TimedOut | ConnectionLost)  # nothing was sent
    chain = [caught.value, caught.value.__cause__]
    assert all(TOKEN.split(":")[1] not in str(error) for error in chain if error is not None)
    assert "aiohttp.ClientConnectorError" in str(caught.value)


async def test_environment_proxy_is_used_unless_bypassed(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY routes requests (a dead proxy fails them); NO_PROXY sends them directly."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = AiohttpRequest(connect_timeout=2.0)
    with pytest.raises(NetworkError, match="ClientProxyConnectionError"):
        async with _bot(emulator.base_url, emulator.base_file_url, proxied):
            pass  # initialize already calls getMe
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = AiohttpRequest(connect_timeout=2.0)
    async with _bot(emulator.base_url, emulator.base_file_url, direct) as ptb:
        assert (await ptb.send_message(1, "direct")).text == "direct"
    assert emulator.texts(1) == ["direct"]


async def test_shutdown_and_initialize_again(emulator: Emulator) -> None:
    """A shut-down request refuses to send; initialize opens a fresh session."""
    request = AiohttpRequest()
    url = f"{emulator.base_url}{TOKEN}/getMe"
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    await request.initialize()
    try:
        status, body = await request.do_request(url, "POST")
    finally:
        await request.shutdown()
    assert status == 200
    assert b'"is_bot":true' in body


def test_timeouts_map_onto_aiohttp() -> None:
    """Pool + connect bound getting a connection; reads are bounded one at a time (a long
    download that keeps flowing is fine); only uploads get a bound on the whole exchange."""
    timeout = AiohttpRequest._timeout(read=5.0, write=3.0, connect=2.0, pool=1.0)
    assert (timeout.connect, timeout.sock_connect, timeout.sock_read) == (3.0, 2.0, 5.0)
    assert timeout.total is None
    upload = AiohttpRequest._timeout(read=5.0, write=3.0, connect=2.0, pool=1.0, upload=True)
    assert upload.total == 11.0
    unbounded = AiohttpRequest._timeout(read=None, write=3.0, connect=2.0, pool=None, upload=True)
    assert (unbounded.total, unbounded.connect, unbounded.sock_read) == (None, None, None)


def test_error_texts_lose_the_token() -> None:
    """aiohttp names the URL in some errors; the token part of it is replaced."""
    text = f"Can not write request body for http://127.0.0.1:8081/bot{TOKEN}/sendDocument"
    assert (
        _redact(text)
        == "Can not write request body for http://127.0.0.1:8081/bot<token>/sendDocument"
    )
    assert TOKEN not in _redact(f"Connection timeout to host https://x/file/bot{TOKEN}/a.csv")


async def _slow_then_redirect(request: web.Request) -> web.StreamResponse:
    """A Bot API answer trickled in chunks (each well inside the read timeout), or a redirect."""
    if request.path.endswith("/moved"):
        raise web.HTTPFound("/elsewhere")
    await request.read()
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for chunk in (b'{"ok": true, ', b'"result": ', *[b" "] * 10, b"true}"):
        await response.write(chunk)
        await asyncio.sleep(0.1)  # a slow link, not a wait for the code under test
    await response.write_eof()
    return response


async def test_a_slow_but_steady_answer_and_a_redirect() -> None:
    """Reads are timed one at a time (1.3 s in all at 0.3 s per read is fine, as with httpx),
    and a redirect is returned, not followed (a redirected POST would lose its parameters)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _slow_then_redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}/bot{TOKEN}"
    request = AiohttpRequest(
        read_timeout=0.3, write_timeout=0.3, connect_timeout=0.3, pool_timeout=0.1
    )
    await request.initialize()
    try:
        assert await request.post(f"{base}/getMe") is True
        status, _ = await request.do_request(f"{base}/moved", "POST")
        assert status == 302
    finally:
        await request.shutdown()
        await runner.cleanup()
