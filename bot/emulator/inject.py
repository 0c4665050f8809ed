"""Updates from the user side: realistic Update JSON queued for getUpdates."""

from __future__ import annotations

from typing import Any

from bot.emulator.methods import document_object, member_object, store_file
from bot.emulator.state import (
    JSON,
    CallbackQuery,
    ChatType,
    State,
    command_entities,
    message_to_api,
    public_poll,
)


def user_message(
    state: State,
    *,
    chat_id: int,
    user_id: int,
    text: str,
    chat_type: ChatType | None = None,
    reply_to_message_id: int | None = None,
    **user_fields: Any,
) -> int:
    """A user's text message (commands get bot_command entities); a channel gets a channel_post."""
    user = state.user(user_id, **user_fields)
    chat = state.add_chat(chat_id, type=chat_type)
    message = state.add_message(
        chat,
        user,
        text=text,
        entities=command_entities(text),
        reply_to_message_id=reply_to_message_id,
        channel_post=chat.type == "channel",
    )
    payload = message_to_api(message, chat)
    if reply_to_message_id is not None:
        target = state.find_message(chat.id, reply_to_message_id)
        if target is not None:
            payload["reply_to_message"] = message_to_api(target, chat)
    return state.push_update("channel_post" if message.channel_post else "message", payload)


def callback_press(state: State, *, chat_id: int, user_id: int, message_id: int, data: str) -> int:
    """A press on a button of `message_id` carrying `data` (forged data is allowed on purpose)."""
    message = state.messages.get(chat_id, {}).get(message_id)
    if message is None:
        raise LookupError(f"chat {chat_id} has no message {message_id}")
    chat = state.chats[chat_id]
    user = state.user(user_id)
    query = CallbackQuery(state.unique("cbq"), chat_id, message_id, user_id, data)
    state.callbacks[query.id] = query
    shown: JSON = message_to_api(message, chat)
    if message.deleted:
        shown = {"chat": chat.to_api(), "message_id": message_id, "date": 0}
    payload = {
        "id": query.id,
        "from": user.to_api(),
        "message": shown,
        "chat_instance": f"ci{chat_id}",
        "data": data,
    }
    return state.push_update("callback_query", payload)


def inline_query(
    state: State, *, user_id: int, query: str, offset: str = "", chat_type: str = "sender"
) -> int:
    """An inline query `@bot query` typed by a user."""
    user = state.user(user_id)
    query_id = state.unique("iq")
    state.inline_queries[query_id] = (user_id, query)
    payload = {
        "id": query_id,
        "from": user.to_api(),
        "query": query,
        "offset": offset,
        "chat_type": chat_type,
    }
    return state.push_update("inline_query", payload)


def document_upload(
    state: State,
    *,
    chat_id: int,
    user_id: int,
    data: bytes,
    file_name: str,
    mime_type: str | None = None,
    caption: str = "",
) -> int:
    """A user sends a file; the bot can getFile and download it."""
    user = state.user(user_id)
    chat = state.add_chat(chat_id)
    stored = store_file(state, data, file_name, mime_type)
    message = state.add_message(
        chat,
        user,
        text=caption,
        entities=command_entities(caption),
        document=document_object(stored),
    )
    return state.push_update("message", message_to_api(message, chat))


def poll_vote(
    state: State, *, chat_id: int, user_id: int, message_id: int, options: list[int]
) -> int:
    """A user's answer to a poll (their earlier one withdrawn): a `poll` update with the counts,
    as Telegram sends bots about their own polls (and `poll_answer` when it is not anonymous)."""
    message = state.find_message(chat_id, message_id)
    if message is None or message.poll is None:
        raise LookupError(f"chat {chat_id} has no poll {message_id}")
    poll = message.poll
    if poll["is_closed"]:
        raise ValueError("the poll is closed")
    answers: dict[int, list[int]] = poll.setdefault("_answers", {})
    for index in answers.pop(user_id, []):
        poll["options"][index]["voter_count"] -= 1
    if options:
        answers[user_id] = list(options)
        for index in options:
            poll["options"][index]["voter_count"] += 1
    poll["total_voter_count"] = len(answers)
    if not poll["is_anonymous"]:
        answer = {
            "poll_id": poll["id"],
            "user": state.user(user_id).to_api(),
            "option_ids": options,
            "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in options],
        }
        state.push_update("poll_answer", answer)
    return state.push_update("poll", public_poll(poll))


def bot_membership(
    state: State, *, chat_id: int, user_id: int, status: str, chat_type: ChatType | None = None
) -> int:
    """A my_chat_member update: the bot added, promoted, kicked or left; sends follow suit."""
    chat = state.add_chat(chat_id, type=chat_type)
    user = state.user(user_id)
    old = member_object(chat, state.bot)
    chat.kicked = status in ("kicked", "left")
    if status == "administrator":
        chat.administrators.add(state.bot.id)
    else:
        chat.administrators.discard(state.bot.id)
    new = member_object(chat, state.bot)
    if status in ("kicked", "left"):
        new = {"status": status, "user": state.bot.to_api()}
        if status == "kicked":
            new["until_date"] = 0
    payload = {
        "chat": chat.to_api(),
        "from": user.to_api(),
        "date": state.now(),
        "old_chat_member": old,
        "new_chat_member": new,
    }
    return state.push_update("my_chat_member", payload)
