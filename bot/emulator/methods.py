"""The Bot API methods, answering like Telegram (shapes python-telegram-bot 22 parses)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.emulator.html import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    EntityParseError,
    parse_html_entities,
    utf16_len,
)
from bot.emulator.limits import RateLimiter, Stats
from bot.emulator.state import (
    JSON,
    ApiError,
    Chat,
    Message,
    State,
    StoredFile,
    User,
    bad_request,
    message_to_api,
    public_poll,
)

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)
_CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
UPLOAD_LIMIT = 50 * 1024 * 1024  # bytes a bot may upload through the Bot API
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_QUERY_EXPIRED = "query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_ADMIN_RIGHTS = [
    "can_be_edited",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
]
_JSON_PARAMS = frozenset(
    [
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "results",
        "commands",
        "scope",
        "allowed_updates",
        "button",
        "options",
        "question_entities",
    ]
)
# Telegram's limits for photos (sendPhoto) and polls (sendPoll, Bot API 10).
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000  # width + height
PHOTO_MAX_RATIO = 20
POLL_QUESTION = (1, 300)
POLL_OPTION = (1, 100)
POLL_OPTIONS = (2, 12)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """A request's parameters, whichever encoding they came in (JSON, form or multipart)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def raw(self, name: str) -> Any:
        """The value as sent (form values are strings; JSON objects may come encoded)."""
        value = self.values.get(name)
        if name in _JSON_PARAMS and isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def text(self, name: str, default: str = "") -> str:
        """A string parameter."""
        value = self.values.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int:
        """An integer parameter; 400 when missing or malformed."""
        value = self.values.get(name)
        if value is None or value == "":
            if default is None:
                raise bad_request(f"{name} is empty")
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A boolean parameter ("true"/"1" in forms)."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)


class BotApi:
    """Executes Bot API calls against the state; counts and limits sent messages."""

    def __init__(
        self,
        state: State,
        stats: Stats,
        limiter: RateLimiter,
        *,
        clock: Callable[[], float],
        limits: bool,
    ) -> None:
        self.state = state
        self.stats = stats
        self.limiter = limiter
        self.clock = clock
        self.limits = limits
        self.methods: dict[str, Callable[[Params], Any]] = {
            "getme": self.get_me,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "deletemessage": self.delete_message,
            "answercallbackquery": self.answer_callback_query,
            "answerinlinequery": self.answer_inline_query,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "getchat": self.get_chat,
            "getchatmember": self.get_chat_member,
            "getchatadministrators": self.get_chat_administrators,
            "getchatmembercount": self.get_chat_member_count,
            "senddocument": self.send_document,
            "sendphoto": self.send_photo,
            "sendpoll": self.send_poll,
            "stoppoll": self.stop_poll,
            "getfile": self.get_file,
            "sendchataction": self.send_chat_action,
            "logout": self.log_out,
            "close": self.log_out,
        }

    def fault_chat(self, params: Params) -> int | None:
        """The chat a call concerns, for matching faults (None when it names none)."""
        raw = params.values.get("chat_id")
        if raw is not None:
            try:
                return self.state.chat_id(raw)
            except ApiError:
                return None
        query = self.state.callbacks.get(params.text("callback_query_id"))
        return query.chat_id if query is not None else None

    # sending

    def admit(self, chat: Chat) -> None:
        """Apply the optional flood limits; 429 with retry_after when exceeded."""
        if not self.limits:
            return
        refused = self.limiter.check(chat.id)
        if refused is not None:
            scope, retry_after = refused
            self.stats.violations[scope] += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )

    def deliver(self, chat: Chat, **fields: Any) -> JSON:
        """Store a message from the bot, count it, log it; returns the Message object."""
        message = self.state.add_message(chat, self.state.bot, **fields)
        now = self.clock()
        self.stats.record(chat.id, message.text, now)
        if self.limits:
            self.limiter.record(chat.id)
        self.state.log("message", message, now)
        return message_to_api(message, chat) | self._reply_part(chat, message)

    def _reply_part(self, chat: Chat, message: Message) -> JSON:
        """The reply_to_message field of a reply."""
        if message.reply_to_message_id is None:
            return {}
        target = self.state.find_message(chat.id, message.reply_to_message_id)
        return {"reply_to_message": message_to_api(target, chat)} if target else {}

    def send_message(self, params: Params) -> JSON:
        """sendMessage."""
        chat = self.state.writable_chat(params.values.get("chat_id"))
        text, entities = formatted(params, "text", "entities", MESSAGE_LIMIT, "message is too long")
        markup = reply_markup(params)
        reply_to = self._reply_to(chat, params)
        self.admit(chat)
        return self.deliver(
            chat,
            text=text,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            link_preview_options=preview_options(params),
        )

    def _reply_to(self, chat: Chat, params: Params) -> int | None:
        """The message replied to (reply_parameters or the older reply_to_message_id)."""
        reply = params.raw("reply_parameters") or {}
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = reply.get("message_id") or params.values.get("reply_to_message_id")
        if not message_id:
            return None
        if self.state.find_message(chat.id, int(message_id)) is None:
            if reply.get("allow_sending_without_reply") or params.flag(
                "allow_sending_without_reply"
            ):
                return None
            raise bad_request("message to be replied not found")
        return int(message_id)

    def send_document(self, params: Params) -> JSON:
        """sendDocument: a multipart upload or an already stored file_id."""
        chat = self.state.writable_chat(params.values.get("chat_id"))
        stored = self._document(params)
        caption, entities = formatted(
            params, "caption", "caption_entities", CAPTION_LIMIT, "message caption is too long"
        )
        markup = reply_markup(params)
        reply_to = self._reply_to(chat, params)
        self.admit(chat)
        return self.deliver(
            chat,
            text=caption,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            document=document_object(stored),
        )

    def send_photo(self, params: Params) -> JSON:
        """sendPhoto: an uploaded PNG or JPEG (size and shape checked) or a stored file_id."""
        chat = self.state.writable_chat(params.values.get("chat_id"))
        stored, (width, height) = self._photo(params)
        caption, entities = formatted(
            params, "caption", "caption_entities", CAPTION_LIMIT, "message caption is too long"
        )
        markup = reply_markup(params)
        reply_to = self._reply_to(chat, params)
        self.admit(chat)
        size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        photo = [size | {"width": width, "height": height, "file_size": len(stored.data)}]
        return self.deliver(
            chat,
            text=caption,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            photo=photo,
        )

    def _photo(self, params: Params) -> tuple[StoredFile, tuple[int, int]]:
        """The photo a sendPhoto call names, with its width and height."""
        value = params.values.get("photo")
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > PHOTO_MAX_BYTES:
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            shape = image_size(value.data)
            if shape is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            width, height = shape
            if width + height > PHOTO_MAX_SIDES or max(shape) > PHOTO_MAX_RATIO * min(shape):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            return store_file(self.state, value.data, value.filename, value.content_type), shape
        if isinstance(value, str) and value in self.state.files:
            stored = self.state.files[value]
            return stored, image_size(stored.data) or (0, 0)
        if not value:
            raise bad_request("there is no photo in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def send_poll(self, params: Params) -> JSON:
        """sendPoll: a regular poll, its question and options checked like Telegram."""
        chat = self.state.writable_chat(params.values.get("chat_id"))
        question = parsed_text(params.text("question"), params.text("question_parse_mode"))
        if not POLL_QUESTION[0] <= utf16_len(question) <= POLL_QUESTION[1]:
            raise bad_request(
                "POLL_QUESTION_INVALID" if question else "poll question must be non-empty"
            )
        options = poll_options(params.raw("options"))
        anonymous = params.values.get("is_anonymous") is None or params.flag("is_anonymous")
        if not anonymous and chat.type == "channel":
            raise bad_request("non-anonymous polls can't be sent to channel chats")
        kind = params.text("type", "regular")
        if kind not in ("regular", "quiz"):
            raise bad_request("wrong poll type specified")
        markup = reply_markup(params)
        reply_to = self._reply_to(chat, params)
        self.admit(chat)
        poll: JSON = {
            "id": self.state.unique("5"),
            "question": question,
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(number)}
                for number, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": anonymous,
            "type": kind,
            "allows_multiple_answers": params.flag("allows_multiple_answers"),
            # Bot API 9.6 / 10: answers may be changed unless the bot says not; open to anyone
            "allows_revoting": params.values.get("allows_revoting") is None
            or params.flag("allows_revoting"),
            "members_only": params.flag("members_only"),
        }
        return self.deliver(chat, reply_markup=markup, reply_to_message_id=reply_to, poll=poll)

    def stop_poll(self, params: Params) -> JSON:
        """stopPoll: close one of the bot's polls; returns the final Poll."""
        chat = self.state.resolve_chat(params.values.get("chat_id"))
        message = self.state.find_message(chat.id, params.integer("message_id"))
        if message is None or message.poll is None:
            raise bad_request("message with poll to stop not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.poll["is_closed"]:
            raise bad_request("poll has already been closed")
        message.poll["is_closed"] = True
        message.reply_markup = reply_markup(params)
        self._edited(chat, message)
        return public_poll(message.poll)

    def _document(self, params: Params) -> StoredFile:
        """The file a sendDocument call names."""
        value = params.values.get("document")
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            return store_file(self.state, value.data, value.filename, value.content_type)
        if isinstance(value, str) and value in self.state.files:
            return self.state.files[value]
        if not value:
            raise bad_request("there is no document in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    # editing

    def _own_message(self, params: Params, *, action: str) -> tuple[Chat, Message]:
        """The bot's message a chat_id + message_id pair names."""
        chat = self.state.resolve_chat(params.values.get("chat_id"))
        message = self.state.find_message(chat.id, params.integer("message_id"))
        if message is None:
            raise bad_request(f"message to {action} not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def edit_message_text(self, params: Params) -> JSON | bool:
        """editMessageText."""
        if params.values.get("inline_message_id"):
            return self._edit_inline(params)
        chat, message = self._own_message(params, action="edit")
        if message.document is not None:
            raise bad_request("there is no text in the message to edit")
        text, entities = formatted(params, "text", "entities", MESSAGE_LIMIT, "message is too long")
        markup = reply_markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(_NOT_MODIFIED)
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.link_preview_options = preview_options(params) or message.link_preview_options
        return self._edited(chat, message)

    def _edit_inline(self, params: Params) -> bool:
        """An edit of a message sent via inline mode (validated and recorded, not displayed)."""
        text, entities = formatted(params, "text", "entities", MESSAGE_LIMIT, "message is too long")
        self.state.inline_edits.append(
            {
                "inline_message_id": params.text("inline_message_id"),
                "text": text,
                "entities": entities,
                "reply_markup": reply_markup(params),
            }
        )
        return True

    def edit_message_reply_markup(self, params: Params) -> JSON | bool:
        """editMessageReplyMarkup."""
        chat, message = self._own_message(params, action="edit")
        markup = reply_markup(params)
        if markup == message.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited(chat, message)

    def _edited(self, chat: Chat, message: Message) -> JSON:
        """Stamp, log and return an edited message."""
        message.edits += 1
        message.edit_date = self.state.now()
        self.state.log("edit", message, self.clock())
        return message_to_api(message, chat)

    def delete_message(self, params: Params) -> bool:
        """deleteMessage."""
        chat = self.state.resolve_chat(params.values.get("chat_id"))
        message = self.state.find_message(chat.id, params.integer("message_id"))
        if message is None:
            raise bad_request("message to delete not found")
        message.deleted = True
        self.state.log("delete", message, self.clock())
        return True

    # callback and inline queries

    def answer_callback_query(self, params: Params) -> bool:
        """answerCallbackQuery: recorded, and shown in the chat log as an "answer" event."""
        query = self.state.callbacks.get(params.text("callback_query_id"))
        if query is None or query.answer is not None:
            raise bad_request(_QUERY_EXPIRED)
        text = params.text("text")
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "callback_query_id": query.id,
            "chat_id": query.chat_id,
            "message_id": query.message_id,
            "user_id": query.user_id,
            "data": query.data,
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.values.get("url"),
            "cache_time": params.integer("cache_time", 0),
        }
        self.state.callback_answers.append(query.answer)
        message = self.state.messages.get(query.chat_id, {}).get(query.message_id)
        if message is not None:
            show_alert = params.flag("show_alert")
            self.state.log("answer", message, self.clock(), text=text, show_alert=show_alert)
        return True

    def answer_inline_query(self, params: Params) -> bool:
        """answerInlineQuery: results validated (ids, HTML of their messages) and recorded."""
        query_id = params.text("inline_query_id")
        if query_id not in self.state.inline_queries:
            raise bad_request(_QUERY_EXPIRED)
        results = params.raw("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        check_inline_results(results)
        user_id, query = self.state.inline_queries.pop(query_id)
        self.state.inline_answers.append(
            {
                "inline_query_id": query_id,
                "user_id": user_id,
                "query": query,
                "results": results,
                "cache_time": params.integer("cache_time", 300),
                "is_personal": params.flag("is_personal"),
                "next_offset": params.text("next_offset"),
                "button": params.raw("button"),
            }
        )
        self.state.changed.notify()
        return True

    # commands and webhook

    def set_my_commands(self, params: Params) -> bool:
        """setMyCommands, per scope and language."""
        commands = params.raw("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.state.commands[commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def get_my_commands(self, params: Params) -> list[JSON]:
        """getMyCommands."""
        return self.state.commands.get(commands_key(params), [])

    def delete_my_commands(self, params: Params) -> bool:
        """deleteMyCommands."""
        self.state.commands.pop(commands_key(params), None)
        return True

    def set_webhook(self, params: Params) -> bool:
        """setWebhook: recorded only (the emulator never calls out)."""
        self.state.webhook = {
            "url": params.text("url"),
            "secret_token": params.values.get("secret_token"),
            "allowed_updates": params.raw("allowed_updates"),
        }
        return True

    def delete_webhook(self, params: Params) -> bool:
        """deleteWebhook (drop_pending_updates honoured)."""
        self.state.webhook = {"url": ""}
        if params.flag("drop_pending_updates"):
            self.state.updates.clear()
        return True

    def get_webhook_info(self, params: Params) -> JSON:
        """getWebhookInfo."""
        return {
            "url": self.state.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }

    # chats

    def get_me(self, params: Params) -> JSON:
        """getMe."""
        return self.state.bot.to_api() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def get_chat(self, params: Params) -> JSON:
        """getChat: a ChatFullInfo."""
        chat = self.state.resolve_chat(params.values.get("chat_id"))
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return chat.to_api() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def get_chat_member(self, params: Params) -> JSON:
        """getChatMember: owner, administrators (set through the control API) or member."""
        chat = self.state.resolve_chat(params.values.get("chat_id"))
        user_id = params.integer("user_id")
        user = self.state.bot if user_id == self.state.bot.id else self.state.user(user_id)
        return member_object(chat, user)

    def get_chat_administrators(self, params: Params) -> list[JSON]:
        """getChatAdministrators."""
        chat = self.state.resolve_chat(params.values.get("chat_id"))
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        ids = ([chat.owner] if chat.owner is not None else []) + sorted(chat.administrators)
        return [member_object(chat, self._member_user(i)) for i in dict.fromkeys(ids)]

    def _member_user(self, user_id: int) -> User:
        """A user, or the bot itself."""
        return self.state.bot if user_id == self.state.bot.id else self.state.user(user_id)

    def get_chat_member_count(self, params: Params) -> int:
        """getChatMemberCount: the members the emulator knows of (at least the bot and a user)."""
        chat = self.state.resolve_chat(params.values.get("chat_id"))
        return max(2, len(chat.administrators) + 2)

    def send_chat_action(self, params: Params) -> bool:
        """sendChatAction."""
        chat = self.state.writable_chat(params.values.get("chat_id"))
        action = params.text("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.state.chat_actions.append({"chat_id": chat.id, "action": action})
        return True

    # files

    def get_file(self, params: Params) -> JSON:
        """getFile: where to download a stored file."""
        stored = self.state.files.get(params.text("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def log_out(self, params: Params) -> bool:
        """logOut / close: accepted, nothing to do locally."""
        return True


def formatted(
    params: Params, field: str, entities_field: str, limit: int, too_long: str
) -> tuple[str, list[JSON]]:
    """Text (or caption) and entities after parse_mode, trimmed and checked like Telegram."""
    source = params.text(field)
    mode = params.text("parse_mode").lower()
    if mode == "html":
        try:
            text, entities = parse_html_entities(source)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode:
        raise bad_request(f"unsupported parse_mode {params.text('parse_mode')!r} (emulator: HTML)")
    else:
        given = params.raw(entities_field) or []
        text, entities = source, [dict(e) for e in given if isinstance(e, dict)]
    text, entities = trim(text, entities)
    if not text and field == "text":
        raise bad_request("message text is empty")
    if utf16_len(text) > limit:
        raise bad_request(too_long)
    return text, entities


def trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip surrounding whitespace as Telegram does, shifting and clipping the entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(0, int(entity["offset"]) - shift)
        end = min(size, int(entity["offset"]) + int(entity["length"]) - shift)
        if end > start:
            kept.append(entity | {"offset": start, "length": end - start})
    return stripped, kept


def reply_markup(params: Params) -> JSON | None:
    """The reply_markup, with inline keyboards validated like Telegram."""
    markup = params.raw("reply_markup")
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in keyboard:
        for button in row:
            check_button(button)
    return markup


def check_button(button: object) -> None:
    """One inline keyboard button: text plus exactly one action; callback data 1-64 bytes."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if len(actions) != 1:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = str(button["callback_data"]).encode("utf-8")
        if not 1 <= len(data) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")


def preview_options(params: Params) -> JSON | None:
    """link_preview_options, or the older disable_web_page_preview flag."""
    options = params.raw("link_preview_options")
    if isinstance(options, dict):
        return options
    if params.flag("disable_web_page_preview"):
        return {"is_disabled": True}
    return None


def check_inline_results(results: list[Any]) -> None:
    """Inline results need a type and a unique id; their message text must parse."""
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict) or "type" not in result or "id" not in result:
            raise bad_request("can't parse InlineQueryResult JSON object")
        if str(result["id"]) in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(str(result["id"]))
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            params = Params(
                {
                    "text": content["message_text"],
                    "parse_mode": content.get("parse_mode") or "",
                    "entities": content.get("entities"),
                }
            )
            formatted(params, "text", "entities", MESSAGE_LIMIT, "MESSAGE_TOO_LONG")


def commands_key(params: Params) -> tuple[str, str]:
    """Commands are kept per (scope, language_code), as Telegram does."""
    scope = params.raw("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.text("language_code")


def member_object(chat: Chat, user: User) -> JSON:
    """A ChatMember: creator, administrator or member."""
    if chat.owner == user.id:
        return {"status": "creator", "user": user.to_api(), "is_anonymous": False}
    if user.id in chat.administrators:
        rights = dict.fromkeys(_ADMIN_RIGHTS, True) | {"can_be_edited": False}
        if chat.type == "channel":
            rights |= {"can_post_messages": True, "can_edit_messages": True}
        return {"status": "administrator", "user": user.to_api(), "is_anonymous": False} | rights
    return {"status": "member", "user": user.to_api()}


def store_file(state: State, data: bytes, name: str | None, mime: str | None) -> StoredFile:
    """Keep uploaded bytes under a new file_id and download path."""
    file_id = state.unique("BQACAgIAAxkBAAE")
    suffix = name.rsplit(".", 1)[-1] if name and "." in name else "bin"
    stored = StoredFile(
        file_id=file_id,
        file_unique_id=state.unique("AgAD"),
        file_path=f"documents/file_{len(state.files)}.{suffix}",
        data=data,
        file_name=name,
        mime_type=mime,
    )
    state.files[file_id] = stored
    state.paths[stored.file_path] = stored
    return stored


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or baseline/progressive JPEG, None when it is neither."""
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not data.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 9 < len(data) and data[index] == 0xFF:
        marker, length = data[index + 1], int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[index + 5 : index + 7], "big")
            return int.from_bytes(data[index + 7 : index + 9], "big"), height
        index += 2 + length
    return None


def parsed_text(text: str, mode: str) -> str:
    """A poll's question or option as shown: HTML parsed when asked (entities dropped), trimmed."""
    if mode.lower() == "html":
        try:
            text = parse_html_entities(text)[0]
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode:
        raise bad_request(f"unsupported parse_mode {mode!r} (emulator: HTML)")
    return text.strip()


def poll_options(raw: object) -> list[str]:
    """The option texts of sendPoll's InputPollOption list (plain strings accepted too)."""
    if not isinstance(raw, list):
        raise bad_request("can't parse options JSON object")
    texts = []
    for option in raw:
        text = option.get("text") if isinstance(option, dict) else option
        if not isinstance(text, str):
            raise bad_request("can't parse InputPollOption JSON object")
        mode = option.get("text_parse_mode") if isinstance(option, dict) else None
        text = parsed_text(text, str(mode or ""))
        if not POLL_OPTION[0] <= utf16_len(text) <= POLL_OPTION[1]:
            raise bad_request("POLL_OPTION_INVALID")
        texts.append(text)
    if not POLL_OPTIONS[0] <= len(texts) <= POLL_OPTIONS[1]:
        raise bad_request("POLL_OPTIONS_COUNT_INVALID" if texts else "poll must have options")
    if len(set(texts)) != len(texts):
        raise bad_request("POLL_ANSWERS_INVALID")
    return texts


def document_object(stored: StoredFile) -> JSON:
    """The Document object of a stored file."""
    document: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return document
