"""The Bot API over real loopback HTTP: encodings, errors, validation and long polling."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.emulator import Emulator
from tests.emulator.conftest import TOKEN


async def call(http: httpx.AsyncClient, method: str, **params: object) -> httpx.Response:
    """POST a JSON body to a Bot API method."""
    return await http.post(f"/bot{TOKEN}/{method}", json=params)


async def test_wrong_token_is_unauthorized(http: httpx.AsyncClient) -> None:
    """A token other than the emulator's gets Telegram's 401."""
    response = await http.post("/bot999:nope/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_not_found(http: httpx.AsyncClient) -> None:
    """An unknown method answers 404 Not Found like Telegram."""
    response = await call(http, "sendTelepathy")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_are_case_insensitive_and_get_works(http: httpx.AsyncClient) -> None:
    """GETMe by GET answers the bot's User."""
    response = await http.get(f"/bot{TOKEN}/GETME")
    assert response.json()["result"]["id"] == 123456
    assert response.json()["result"]["is_bot"] is True


async def test_form_and_json_bodies_both_send(http: httpx.AsyncClient, emulator: Emulator) -> None:
    """Form-urlencoded values (JSON-encoded markup) and JSON bodies are read alike."""
    markup = {"inline_keyboard": [[{"text": "go", "callback_data": "g"}]]}
    form = {
        "chat_id": "5",
        "text": "<b>a</b>",
        "parse_mode": "HTML",
        "reply_markup": json.dumps(markup),
    }
    first = await http.post(f"/bot{TOKEN}/sendMessage", data=form)
    second = await call(http, "sendMessage", chat_id=5, text="plain", reply_markup=markup)
    assert first.json()["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 1}]
    assert first.json()["result"]["reply_markup"] == markup
    assert second.json()["result"]["message_id"] == 2
    assert second.json()["result"]["from"]["is_bot"] is True
    assert emulator.texts(5) == ["a", "plain"]


async def test_multipart_document_upload_and_download(http: httpx.AsyncClient) -> None:
    """sendDocument stores the uploaded bytes; getFile's path downloads them."""
    sent = await http.post(
        f"/bot{TOKEN}/sendDocument",
        data={"chat_id": "5", "caption": "<i>c</i>", "parse_mode": "HTML"},
        files={"document": ("notes.md", b"# hi", "text/markdown")},
    )
    result = sent.json()["result"]
    assert result["caption"] == "c"
    assert result["document"]["file_name"] == "notes.md"
    path = (await call(http, "getFile", file_id=result["document"]["file_id"])).json()["result"]
    download = await http.get(f"/file/bot{TOKEN}/{path['file_path']}")
    assert download.content == b"# hi"
    assert (await http.get(f"/file/botWRONG/{path['file_path']}")).status_code == 401


async def test_empty_text_is_refused(http: httpx.AsyncClient) -> None:
    """Whitespace-only text is "message text is empty"."""
    response = await call(http, "sendMessage", chat_id=5, text=" \n ")
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: message text is empty"


async def test_html_errors_use_telegrams_prefix(http: httpx.AsyncClient) -> None:
    """Invalid HTML is a 400 "can't parse entities" with the parser's detail."""
    response = await call(http, "sendMessage", chat_id=5, text="<x>", parse_mode="HTML")
    assert response.status_code == 400
    assert response.json()["description"] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    )


async def test_length_limit_counts_utf16_after_parsing(http: httpx.AsyncClient) -> None:
    """4096 UTF-16 units after entity parsing pass (an emoji counts 2); one more is too long."""
    exact = "<b>" + "a" * 4094 + "</b>😀"
    assert (await call(http, "sendMessage", chat_id=5, text=exact, parse_mode="HTML")).is_success
    over = "a" * 4095 + "😀"
    response = await call(http, "sendMessage", chat_id=5, text=over)
    assert response.json()["description"] == "Bad Request: message is too long"


async def test_edit_applies_and_refuses_identical_content(
    http: httpx.AsyncClient, emulator: Emulator
) -> None:
    """editMessageText changes the stored message; the same content again is "not modified"."""
    sent = (await call(http, "sendMessage", chat_id=5, text="v1")).json()["result"]
    edited = await call(
        http, "editMessageText", chat_id=5, message_id=sent["message_id"], text="v2"
    )
    assert edited.json()["result"]["text"] == "v2"
    again = await call(http, "editMessageText", chat_id=5, message_id=sent["message_id"], text="v2")
    assert again.status_code == 400
    assert again.json()["description"].startswith("Bad Request: message is not modified")
    assert [e.kind for e in emulator.chat_log(5)] == ["message", "edit"]
    assert emulator.messages(5)[0].edits == 1


async def test_delete_and_reply_parameters(http: httpx.AsyncClient, emulator: Emulator) -> None:
    """Replies to missing messages fail unless allowed; deleted messages are flagged."""
    sent = (await call(http, "sendMessage", chat_id=5, text="a")).json()["result"]
    reply = await call(
        http,
        "sendMessage",
        chat_id=5,
        text="b",
        reply_parameters={"message_id": sent["message_id"]},
    )
    assert reply.json()["result"]["reply_to_message"]["text"] == "a"
    assert (await call(http, "deleteMessage", chat_id=5, message_id=sent["message_id"])).is_success
    missing = await call(
        http, "sendMessage", chat_id=5, text="c", reply_parameters={"message_id": 1}
    )
    assert missing.json()["description"] == "Bad Request: message to be replied not found"
    assert emulator.messages(5)[0].deleted


async def test_callback_data_over_64_bytes_is_refused(http: httpx.AsyncClient) -> None:
    """Callback data longer than 64 bytes is BUTTON_DATA_INVALID."""
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}
    response = await call(http, "sendMessage", chat_id=5, text="k", reply_markup=markup)
    assert response.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_commands_per_scope_and_language(http: httpx.AsyncClient, emulator: Emulator) -> None:
    """setMyCommands keeps one list per (scope, language_code)."""
    ko = [{"command": "start", "description": "시작"}]
    await call(http, "setMyCommands", commands=ko, language_code="ko")
    await call(http, "setMyCommands", commands=[{"command": "help", "description": "Help"}])
    got = await call(http, "getMyCommands", language_code="ko")
    assert got.json()["result"] == ko
    assert emulator.commands()[0]["command"] == "help"
    bad = await call(http, "setMyCommands", commands=[{"command": "Bad!", "description": "x"}])
    assert bad.json()["description"] == "Bad Request: BOT_COMMAND_INVALID"


async def test_long_poll_wakes_when_an_update_is_injected(
    http: httpx.AsyncClient, emulator: Emulator
) -> None:
    """A getUpdates waiting 30 s returns as soon as an update is injected."""
    poll = asyncio.create_task(call(http, "getUpdates", timeout=30))
    await emulator.wait_for(lambda: emulator.long_polls > 0, within=2)
    update_id = emulator.send_text(chat_id=7, user_id=7, text="/start deep")
    response = await asyncio.wait_for(poll, 2)
    (update,) = response.json()["result"]
    assert update["update_id"] == update_id
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert update["message"]["chat"]["type"] == "private"


async def test_offset_confirms_updates(http: httpx.AsyncClient, emulator: Emulator) -> None:
    """Updates below the offset are forgotten; limit caps the batch."""
    ids = [emulator.send_text(chat_id=7, user_id=7, text=str(n)) for n in range(3)]
    first = (await call(http, "getUpdates", limit=2)).json()["result"]
    assert [u["update_id"] for u in first] == ids[:2]
    rest = (await call(http, "getUpdates", offset=ids[1] + 1)).json()["result"]
    assert [u["update_id"] for u in rest] == ids[2:]


async def test_webhook_blocks_get_updates(http: httpx.AsyncClient) -> None:
    """With a webhook set, getUpdates is a 409 Conflict until deleteWebhook."""
    await call(http, "setWebhook", url="https://example.org/hook")
    assert (await call(http, "getUpdates")).status_code == 409
    await call(http, "deleteWebhook")
    assert (await call(http, "getUpdates")).is_success


async def test_group_administrators(http: httpx.AsyncClient, emulator: Emulator) -> None:
    """Administrators set in the emulator are reported by getChatMember and the admin list."""
    emulator.add_chat(-77, type="group", title="Readers", owner=1, administrators=[2])
    member = (await call(http, "getChatMember", chat_id=-77, user_id=2)).json()["result"]
    assert member["status"] == "administrator"
    admins = (await call(http, "getChatAdministrators", chat_id=-77)).json()["result"]
    assert [a["status"] for a in admins] == ["creator", "administrator"]
    plain = (await call(http, "getChatMember", chat_id=-77, user_id=3)).json()["result"]
    assert plain["status"] == "member"


async def test_loopback_only() -> None:
    """Binding to anything but loopback is refused."""
    with pytest.raises(ValueError, match="loopback"):
        await Emulator(token=TOKEN).start(host="0.0.0.0")


async def test_surrounding_whitespace_is_trimmed(http: httpx.AsyncClient) -> None:
    """Leading and trailing whitespace is stripped and entity offsets shift with it."""
    response = await call(http, "sendMessage", chat_id=5, text="\n  <b>x</b> \n", parse_mode="HTML")
    assert response.json()["result"]["text"] == "x"
    assert response.json()["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 1}]
