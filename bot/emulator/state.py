"""What the emulated Telegram knows: users, chats, messages, pending updates, files, answers."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.emulator.html import utf16_len

JSON = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
EventKind = Literal["message", "edit", "delete", "answer"]
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
ALL_UPDATES_KEPT = 100_000  # Telegram keeps unconfirmed updates for a day; this bounds memory


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description, optional parameters."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends with this error."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(slots=True)
class User:
    """A Telegram user (or the bot itself)."""

    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None
    last_name: str | None = None
    is_bot: bool = False
    blocked_bot: bool = False

    def to_api(self) -> JSON:
        """The User object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(slots=True)
class Chat:
    """A chat the bot is in; `migrated_to` and `kicked` make sends fail like Telegram."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    administrators: set[int] = field(default_factory=set)
    owner: int | None = None
    migrated_to: int | None = None
    kicked: bool = False
    next_message_id: int = 1

    def to_api(self) -> JSON:
        """The Chat object."""
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(slots=True)
class Message:
    """A message in a chat as it stands now (edits applied, deletion flagged)."""

    chat_id: int
    message_id: int
    sender: User
    date: int
    text: str = ""
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    document: JSON | None = None
    photo: list[JSON] | None = None  # PhotoSize objects, as Telegram returns them
    poll: JSON | None = None  # the Poll object, its counts kept current
    reply_to_message_id: int | None = None
    link_preview_options: JSON | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False
    channel_post: bool = False

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent it."""
        return self.sender.is_bot


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One thing the bot did in a chat: sent, edited or deleted a message, answered a press."""

    kind: EventKind
    chat_id: int
    message_id: int
    text: str = ""
    entities: tuple[JSON, ...] = ()
    reply_markup: JSON | None = None
    document: JSON | None = None
    photo: list[JSON] | None = None
    poll: JSON | None = None
    show_alert: bool = False
    at: float = 0.0

    def to_json(self) -> JSON:
        """A JSON-ready dict for the control API."""
        return {
            "kind": self.kind,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "text": self.text,
            "entities": list(self.entities),
            "reply_markup": self.reply_markup,
            "document": self.document,
            "photo": self.photo,
            "poll": self.poll,
            "show_alert": self.show_alert,
            "at": self.at,
        }


@dataclass(slots=True)
class StoredFile:
    """An uploaded file, downloadable at its file_path."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None
    mime_type: str | None


@dataclass(slots=True)
class CallbackQuery:
    """A button press sent to the bot, remembered so its answer can be attributed."""

    id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str
    answer: JSON | None = None


class Notifier:
    """Wakes waiters on change; costs nothing when nobody waits (the benchmarks' hot path)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def notify(self) -> None:
        """Wake everyone waiting."""
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, seconds: float) -> bool:
        """Wait for the next change; False on timeout."""
        if self._event is None:
            self._event = asyncio.Event()
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True


def message_to_api(message: Message, chat: Chat, *, nested: bool = True) -> JSON:
    """The Message object Telegram returns and delivers."""
    data: JSON = {"message_id": message.message_id, "date": message.date, "chat": chat.to_api()}
    if message.channel_post:
        data["sender_chat"] = chat.to_api()
    else:
        data["from"] = message.sender.to_api()
    text_key, entities_key = "text", "entities"
    media = message.document is not None or message.photo is not None
    if media:
        text_key, entities_key = "caption", "caption_entities"
    if message.document is not None:
        data["document"] = message.document
    if message.photo is not None:
        data["photo"] = message.photo
    if message.poll is not None:
        data["poll"] = public_poll(message.poll)
    elif message.text or not media:
        data[text_key] = message.text
    if message.entities:
        data[entities_key] = message.entities
    if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
        data["reply_markup"] = message.reply_markup
    if message.link_preview_options is not None:
        data["link_preview_options"] = message.link_preview_options
    if message.edit_date is not None:
        data["edit_date"] = message.edit_date
    return data


def public_poll(poll: JSON) -> JSON:
    """A Poll object as Telegram shows it: the emulator's own bookkeeping (`_…` keys) left out."""
    return {key: value for key, value in poll.items() if not key.startswith("_")}


def command_entities(text: str) -> list[JSON]:
    """bot_command entities, as Telegram marks them in users' messages."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND.finditer(text)
    ]


class State:
    """Everything the emulator remembers; every update is O(1)."""

    def __init__(self, *, bot: User, auto_create_chats: bool, wall_clock: Callable[[], float]):
        self.bot = bot
        self.auto_create_chats = auto_create_chats
        self.wall_clock = wall_clock
        self.changed = Notifier()
        self.new_update = Notifier()
        self.reset()

    def reset(self) -> None:
        """Forget everything but the bot itself."""
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.usernames: dict[str, int] = {}
        self.messages: dict[int, dict[int, Message]] = {}
        self.logs: dict[int, list[ChatEvent]] = {}
        self.updates: deque[tuple[int, JSON]] = deque(maxlen=ALL_UPDATES_KEPT)
        self.next_update_id = 1
        self.callbacks: dict[str, CallbackQuery] = {}
        self.callback_answers: list[JSON] = []
        self.inline_queries: dict[str, tuple[int, str]] = {}
        self.inline_answers: list[JSON] = []
        self.inline_edits: list[JSON] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.files: dict[str, StoredFile] = {}
        self.paths: dict[str, StoredFile] = {}
        self.webhook: JSON = {"url": ""}
        self.chat_actions: list[JSON] = []
        self._ids = itertools.count(1)
        self.changed.notify()

    def now(self) -> int:
        """Unix time for message dates."""
        return int(self.wall_clock())

    def unique(self, prefix: str) -> str:
        """A fresh identifier (query ids, file ids)."""
        return f"{prefix}{next(self._ids)}"

    # users and chats

    def user(self, user_id: int, **fields: Any) -> User:
        """The user with this id, created (or updated with `fields`) as needed."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = User(user_id, f"User{user_id}", language_code="en")
        for key, value in fields.items():
            if value is not None:
                setattr(user, key, value)
        return user

    def add_chat(self, chat_id: int, *, type: ChatType | None = None, **fields: Any) -> Chat:
        """The chat with this id, created (or updated with `fields`) as needed."""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(chat_id, type or _default_type(chat_id))
            self.messages[chat_id] = {}
            self.logs[chat_id] = []
            if chat.type == "private":
                chat.first_name = self.user(chat_id).first_name
            else:
                chat.title = f"Chat {chat_id}"
        elif type is not None:
            chat.type = type
        for key, value in fields.items():
            if value is not None:
                setattr(chat, key, value)
        if chat.username:
            self.usernames[chat.username.lower()] = chat_id
        return chat

    def resolve_chat(self, raw: object) -> Chat:
        """The chat a `chat_id` parameter names (an id or @username), as sendMessage sees it."""
        chat_id = self.chat_id(raw)
        chat = self.chats.get(chat_id)
        if chat is None:
            if not self.auto_create_chats:
                raise bad_request("chat not found")
            chat = self.add_chat(chat_id)
        return chat

    def chat_id(self, raw: object) -> int:
        """A numeric chat id from an id or @username parameter."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        text = str(raw or "").strip()
        if text.startswith("@"):
            found = self.usernames.get(text[1:].lower())
            if found is None:
                raise bad_request("chat not found")
            return found
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def writable_chat(self, raw: object) -> Chat:
        """A chat the bot may post in: blocked, kicked and migrated chats fail like Telegram."""
        chat = self.resolve_chat(raw)
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private" and self.user(chat.id).blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.kicked:
            where = "channel chat" if chat.type == "channel" else f"{chat.type} chat"
            raise ApiError(403, f"Forbidden: bot was kicked from the {where}")
        return chat

    # messages

    def add_message(self, chat: Chat, sender: User, **fields: Any) -> Message:
        """Store a new message with the chat's next id."""
        message = Message(chat.id, chat.next_message_id, sender, self.now(), **fields)
        chat.next_message_id += 1
        self.messages[chat.id][message.message_id] = message
        return message

    def find_message(self, chat_id: int, message_id: int) -> Message | None:
        """A message that still exists."""
        message = self.messages.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message

    def log(self, kind: EventKind, message: Message, at: float, **extra: Any) -> None:
        """Append what the bot did to the chat's log and wake waiters."""
        event = ChatEvent(
            kind,
            message.chat_id,
            message.message_id,
            text=extra.pop("text", message.text),
            entities=tuple(message.entities),
            reply_markup=message.reply_markup,
            document=message.document,
            photo=message.photo,
            poll=public_poll(message.poll) if message.poll is not None else None,
            at=at,
            **extra,
        )
        self.logs.setdefault(message.chat_id, []).append(event)
        self.changed.notify()

    # updates

    def push_update(self, kind: str, payload: JSON) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append((update_id, {"update_id": update_id, kind: payload}))
        self.new_update.notify()
        return update_id

    def confirm(self, offset: int) -> None:
        """Forget updates before `offset` (negative: keep only the last -offset)."""
        if offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()
            return
        while self.updates and self.updates[0][0] < offset:
            self.updates.popleft()

    def pending(self, limit: int) -> list[JSON]:
        """The oldest `limit` unconfirmed updates."""
        return [update for _, update in itertools.islice(self.updates, limit)]


def _default_type(chat_id: int) -> ChatType:
    """Telegram's id ranges: users positive, supergroups/channels -100…, basic groups negative."""
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id <= -1_000_000_000_000 else "group"


def new_bot_user(token: str, username: str) -> User:
    """The bot's own User, its id taken from the token like Telegram's."""
    head = token.split(":", 1)[0]
    bot_id = int(head) if head.isdigit() else 1
    return User(bot_id, "Paperboy (emulated)", username=username, is_bot=True)


def monotonic() -> float:
    """The default clock of rate limits and logs."""
    return time.monotonic()
