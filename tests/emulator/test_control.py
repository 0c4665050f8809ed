"""The control API over HTTP: inject updates, read chats, script faults, reset."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from bot.emulator import Emulator
from tests.emulator.conftest import TOKEN


async def control(http: httpx.AsyncClient, verb: str, path: str, /, **body: object) -> Any:
    """Call a control endpoint and return its result (asserting success)."""
    response = await http.request(verb, f"/_control/{path}", json=body or None)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["ok"] is True
    return payload["result"]


async def bot_api(http: httpx.AsyncClient, method: str, **params: object) -> httpx.Response:
    """Call the Bot API as the bot would."""
    return await http.post(f"/bot{TOKEN}/{method}", json=params)


async def test_inject_message_and_read_the_reply(http: httpx.AsyncClient) -> None:
    """A user message injected over HTTP reaches getUpdates; the bot's reply is readable."""
    await control(http, "POST", "users", user_id=11, first_name="Ada", language_code="ko")
    await control(http, "POST", "chats", chat_id=-300, type="supergroup", title="Lab")
    update_id = await control(
        http, "POST", "updates/message", chat_id=-300, user_id=11, text="/today"
    )
    (update,) = (await bot_api(http, "getUpdates")).json()["result"]
    assert update["update_id"] == update_id
    assert update["message"]["from"]["language_code"] == "ko"
    assert update["message"]["chat"] == {"id": -300, "type": "supergroup", "title": "Lab"}
    await bot_api(http, "sendMessage", chat_id=-300, text="<b>digest</b>", parse_mode="HTML")
    (message,) = await control(http, "GET", "chats/-300/messages")
    assert message["text"] == "digest"
    assert message["entities"] == [{"type": "bold", "offset": 0, "length": 6}]


async def test_callback_press_and_answer(http: httpx.AsyncClient) -> None:
    """A press on a bot message becomes a callback_query; its answer is logged in the chat."""
    markup = {"inline_keyboard": [[{"text": "next", "callback_data": "p:2"}]]}
    sent = (await bot_api(http, "sendMessage", chat_id=4, text="page", reply_markup=markup)).json()
    message_id = sent["result"]["message_id"]
    await control(
        http, "POST", "updates/callback", chat_id=4, user_id=4, message_id=message_id, data="p:2"
    )
    (update,) = (await bot_api(http, "getUpdates")).json()["result"]
    query = update["callback_query"]
    assert query["message"]["reply_markup"] == markup
    assert (
        await bot_api(http, "answerCallbackQuery", callback_query_id=query["id"], text="ok")
    ).is_success
    twice = await bot_api(http, "answerCallbackQuery", callback_query_id=query["id"])
    assert twice.status_code == 400
    log = await control(http, "GET", "chats/4/log")
    assert [(e["kind"], e["text"]) for e in log] == [("message", "page"), ("answer", "ok")]
    answers = await control(http, "GET", "callback_answers")
    assert answers[0]["data"] == "p:2"


async def test_inline_query_answer_is_validated_and_recorded(http: httpx.AsyncClient) -> None:
    """Inline answers are recorded; a result whose HTML is invalid is refused."""
    await control(http, "POST", "updates/inline_query", user_id=5, query="diffusion")
    (update,) = (await bot_api(http, "getUpdates")).json()["result"]
    query_id = update["inline_query"]["id"]
    article = {
        "type": "article",
        "id": "1",
        "title": "t",
        "input_message_content": {"message_text": "<b>x", "parse_mode": "HTML"},
    }
    bad = await bot_api(http, "answerInlineQuery", inline_query_id=query_id, results=[article])
    assert bad.status_code == 400
    article["input_message_content"] = {"message_text": "<b>x</b>", "parse_mode": "HTML"}
    assert (
        await bot_api(http, "answerInlineQuery", inline_query_id=query_id, results=[article])
    ).is_success
    (answer,) = await control(http, "GET", "inline_answers")
    assert answer["query"] == "diffusion"
    assert answer["results"][0]["id"] == "1"


async def test_document_upload_from_a_user(http: httpx.AsyncClient) -> None:
    """A document sent by a user can be fetched with getFile and downloaded."""
    content = base64.b64encode(b"# digest").decode()
    await control(
        http,
        "POST",
        "updates/document",
        chat_id=1,
        user_id=1,
        file_name="d.md",
        content_base64=content,
    )
    (update,) = (await bot_api(http, "getUpdates")).json()["result"]
    file_id = update["message"]["document"]["file_id"]
    path = (await bot_api(http, "getFile", file_id=file_id)).json()["result"]["file_path"]
    assert (await http.get(f"/file/bot{TOKEN}/{path}")).content == b"# digest"


async def test_faults_and_stats_over_http(http: httpx.AsyncClient) -> None:
    """Faults scripted over HTTP fire; stats count the 429."""
    await control(http, "POST", "faults", kind="retry_after", method="sendMessage", retry_after=3)
    assert len(await control(http, "GET", "faults")) == 1
    refused = await bot_api(http, "sendMessage", chat_id=1, text="x")
    assert refused.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    await bot_api(http, "sendMessage", chat_id=1, text="x")
    stats = await control(http, "GET", "stats")
    assert stats["accepted"] == 1
    assert stats["too_many_requests"] == 1
    bad = await http.post("/_control/faults", json={"kind": "meteor"})
    assert bad.status_code == 400


async def test_bot_kicked_and_reset(http: httpx.AsyncClient, emulator: Emulator) -> None:
    """A my_chat_member kick makes sends fail with 403; reset forgets everything."""
    await control(http, "POST", "updates/my_chat_member", chat_id=-9, user_id=1, status="kicked")
    kicked = await bot_api(http, "sendMessage", chat_id=-9, text="x")
    assert kicked.json()["description"] == "Forbidden: bot was kicked from the group chat"
    await control(http, "POST", "reset")
    assert emulator.pending_updates() == 0
    assert emulator.state.chats == {}
