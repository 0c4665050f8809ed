"""The emulator: an aiohttp server speaking the Bot API on loopback, plus its Python handle."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.emulator import inject
from bot.emulator.faults import Fault, FaultPlan
from bot.emulator.limits import RateLimiter, Stats
from bot.emulator.methods import BotApi, Params, Upload
from bot.emulator.state import (
    JSON,
    ApiError,
    ChatEvent,
    ChatType,
    Message,
    Notifier,
    State,
    bad_request,
    monotonic,
    new_bot_user,
)

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's upload limit for bots
_NOT_FOUND = ApiError(404, "Not Found")
_UNAUTHORIZED = ApiError(401, "Unauthorized")
_WEBHOOK_ACTIVE = ApiError(
    409,
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first",
)


def json_response(body: object, status: int = 200) -> web.Response:
    """A compact JSON response."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return web.Response(body=text.encode(), status=status, content_type="application/json")


class Emulator:
    """A local Telegram Bot API for one bot token; see bot/emulator/__init__.py for the tour."""

    def __init__(
        self,
        token: str,
        *,
        limits: bool = False,
        clock: Callable[[], float] = monotonic,
        wall_clock: Callable[[], float] = time.time,
        seed: int | None = None,
        auto_create_chats: bool = True,
        bot_username: str = "paperboy_emulated_bot",
        overall_per_second: int = 30,
        chat_burst: int = 3,
        group_per_minute: int = 20,
    ) -> None:
        self.token = token
        self.clock = clock
        self.state = State(
            bot=new_bot_user(token, bot_username),
            auto_create_chats=auto_create_chats,
            wall_clock=wall_clock,
        )
        self.stats = Stats()
        self.limiter = RateLimiter(
            clock,
            overall=overall_per_second,
            chat_burst=chat_burst,
            group_per_minute=group_per_minute,
        )
        self.faults = FaultPlan(seed)
        self.api = BotApi(self.state, self.stats, self.limiter, clock=clock, limits=limits)
        self._runner: web.AppRunner | None = None
        self._stopping = Notifier()
        self._closing = False
        self.long_polls = 0  # getUpdates calls parked, waiting for an update
        self.port = 0
        self.host = "127.0.0.1"

    # lifecycle

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """python-telegram-bot's base_url (the token is appended)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """python-telegram-bot's base_file_url (the token is appended)."""
        return f"{self.url}/file/bot"

    async def start(self, *, port: int = 0, host: str = "127.0.0.1") -> None:
        """Listen on loopback only (`port` 0 picks a free port)."""
        if host not in LOOPBACK:
            raise ValueError(f"the emulator listens on loopback only, not {host!r}")
        self._closing = False
        self._stopping = Notifier()
        self.state.changed = Notifier()
        self.state.new_update = Notifier()
        self._runner = web.AppRunner(self.app(), handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = int(self._runner.addresses[0][1])  # the one chosen for port 0

    async def stop(self) -> None:
        """Wake long polls and delayed answers, then shut the server down."""
        self._closing = True
        self.state.new_update.notify()
        self._stopping.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @asynccontextmanager
    async def running(self, *, port: int = 0, host: str = "127.0.0.1") -> AsyncIterator[Emulator]:
        """`async with emu.running(port=0) as emu:` serves for the block's duration."""
        await self.start(port=port, host=host)
        try:
            yield self
        finally:
            await self.stop()

    def app(self) -> web.Application:
        """The aiohttp application: Bot API, file downloads and the control API."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        for method, path, handler in self._control_routes():
            app.router.add_route(method, f"/_control/{path}", _control(handler))
        return app

    # the Bot API

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """One Bot API call: token, faults, limits, the method, then the answer."""
        if request.match_info["token"] != self.token:
            return self._error(_UNAUTHORIZED)
        name = request.match_info["method"].lower()
        method = self.api.methods.get(name)
        if method is None and name != "getupdates":
            return self._error(_NOT_FOUND)
        try:
            params = await read_params(request)
        except ApiError as error:
            return self._error(error)
        fault = self.faults.pick(name, self.api.fault_chat(params))
        if fault is not None and not fault.after_record:
            if fault.kind == "drop":
                return await _drop(request)
            refusal = fault.error(self.api.fault_chat(params))
            if refusal is not None:
                return self._error(refusal)
        try:
            result = await self._get_updates(params) if method is None else method(params)
            response = json_response({"ok": True, "result": result})
        except ApiError as error:
            response = self._error(error)
        if fault is not None and fault.after_record:
            if fault.kind == "drop":
                return await _drop(request)
            await self._stopping.wait(fault.seconds)
        return response

    def _error(self, error: ApiError) -> web.Response:
        """An error answer (429s are counted)."""
        if error.code == 429:
            self.stats.too_many_requests += 1
        return json_response(error.body(), status=error.code)

    async def _get_updates(self, params: Params) -> list[JSON]:
        """getUpdates with long polling that wakes as soon as an update is injected."""
        if self.state.webhook.get("url"):
            raise _WEBHOOK_ACTIVE
        offset = params.integer("offset", 0)
        if offset:
            self.state.confirm(offset)
        limit = min(100, max(1, params.integer("limit", 100)))
        timeout = max(0.0, float(params.text("timeout", "0") or 0))
        deadline = asyncio.get_running_loop().time() + timeout
        while not (pending := self.state.pending(limit)) and not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self.long_polls += 1
            self.state.changed.notify()  # lets tests wait for a poll to be parked, event-driven
            try:
                await self.state.new_update.wait(remaining)
            finally:
                self.long_polls -= 1
        return pending

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A file download: /file/bot<token>/<file_path>."""
        if request.match_info["token"] != self.token:
            return self._error(_UNAUTHORIZED)
        stored = self.state.paths.get(request.match_info["path"])
        if stored is None:
            return self._error(_NOT_FOUND)
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    # the Python API: users, chats, updates

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> JSON:
        """Register (or update) a user; returns its User object."""
        user = self.state.user(
            user_id,
            first_name=first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )
        return user.to_api()

    def add_chat(
        self,
        chat_id: int,
        *,
        type: ChatType | None = None,
        title: str | None = None,
        username: str | None = None,
        administrators: list[int] | None = None,
        owner: int | None = None,
    ) -> JSON:
        """Register (or update) a chat; the type defaults from the id's range."""
        chat = self.state.add_chat(chat_id, type=type, title=title, username=username, owner=owner)
        if administrators is not None:
            chat.administrators = set(administrators)
        return chat.to_api()

    def set_administrators(self, chat_id: int, user_ids: list[int]) -> None:
        """Who getChatMember/getChatAdministrators report as administrators of a group."""
        self.state.add_chat(chat_id).administrators = set(user_ids)

    def block(self, user_id: int, *, blocked: bool = True) -> None:
        """The user blocks the bot: every send to their private chat answers 403."""
        self.state.user(user_id).blocked_bot = blocked

    def migrate(self, chat_id: int, to_chat_id: int | None = None) -> int:
        """Upgrade a group to a supergroup: sends to the old id answer migrate_to_chat_id."""
        target = to_chat_id if to_chat_id is not None else -1_000_000_000_000 - abs(chat_id)
        old = self.state.add_chat(chat_id)
        new = self.state.add_chat(target, type="supergroup", title=old.title)
        new.administrators = set(old.administrators)
        old.migrated_to = target
        return target

    def send_text(self, *, chat_id: int, user_id: int, text: str, **options: Any) -> int:
        """A user sends text (a command or not) in a chat; returns the update_id."""
        return inject.user_message(
            self.state, chat_id=chat_id, user_id=user_id, text=text, **options
        )

    def press_button(self, *, chat_id: int, user_id: int, message_id: int, data: str) -> int:
        """A user presses a button with callback `data` on a message; returns the update_id."""
        return inject.callback_press(
            self.state, chat_id=chat_id, user_id=user_id, message_id=message_id, data=data
        )

    def inline_query(self, *, user_id: int, query: str, offset: str = "") -> int:
        """A user types `@bot query`; returns the update_id."""
        return inject.inline_query(self.state, user_id=user_id, query=query, offset=offset)

    def upload_document(
        self,
        *,
        chat_id: int,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str = "",
    ) -> int:
        """A user sends a file; returns the update_id."""
        return inject.document_upload(
            self.state,
            chat_id=chat_id,
            user_id=user_id,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            caption=caption,
        )

    def vote_poll(self, *, chat_id: int, user_id: int, message_id: int, options: list[int]) -> int:
        """A user answers one of the bot's polls (a new answer replaces theirs); the update_id."""
        return inject.poll_vote(
            self.state, chat_id=chat_id, user_id=user_id, message_id=message_id, options=options
        )

    def channel_post(self, *, chat_id: int, text: str) -> int:
        """A post in a channel the bot is in; returns the update_id."""
        self.state.add_chat(chat_id, type="channel")
        return inject.user_message(self.state, chat_id=chat_id, user_id=0, text=text)

    def bot_membership(
        self, *, chat_id: int, user_id: int, status: str, chat_type: ChatType | None = None
    ) -> int:
        """The bot is added (member/administrator), kicked or leaves; returns the update_id."""
        return inject.bot_membership(
            self.state, chat_id=chat_id, user_id=user_id, status=status, chat_type=chat_type
        )

    # the Python API: reading what the bot did

    def chat_log(self, chat_id: int) -> list[ChatEvent]:
        """Everything the bot did in a chat, in order: message, edit, delete, answer."""
        return list(self.state.logs.get(chat_id, ()))

    def messages(self, chat_id: int) -> list[Message]:
        """The bot's messages in a chat as they stand (edits applied, deleted ones flagged)."""
        return [m for m in self.state.messages.get(chat_id, {}).values() if m.from_bot]

    def texts(self, chat_id: int) -> list[str]:
        """The current text of the bot's messages still in a chat."""
        return [m.text for m in self.messages(chat_id) if not m.deleted]

    @property
    def callback_answers(self) -> list[JSON]:
        """Every answerCallbackQuery, in order."""
        return list(self.state.callback_answers)

    @property
    def inline_answers(self) -> list[JSON]:
        """Every answerInlineQuery, in order."""
        return list(self.state.inline_answers)

    def commands(self, *, language_code: str = "", scope: JSON | None = None) -> list[JSON]:
        """The command list set for a scope and language."""
        key = json.dumps(scope or {"type": "default"}, sort_keys=True), language_code
        return list(self.state.commands.get(key, []))

    def pending_updates(self) -> int:
        """Updates not yet confirmed by getUpdates."""
        return len(self.state.updates)

    async def wait_for(self, predicate: Callable[[], bool], *, within: float = 5.0) -> None:
        """Return once `predicate()` holds (re-checked on every change); TimeoutError after."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the emulator saw no matching change in time")
            await self.state.changed.wait(remaining)

    async def wait_for_events(
        self, chat_id: int, count: int, *, within: float = 5.0
    ) -> list[ChatEvent]:
        """Wait until a chat's log holds `count` events; returns the log."""
        await self.wait_for(lambda: len(self.state.logs.get(chat_id, ())) >= count, within=within)
        return self.chat_log(chat_id)

    # the Python API: faults, limits, reset

    def add_fault(self, kind: str, **options: Any) -> Fault:
        """Script a failure (see `Fault`), e.g. `add_fault("retry_after", method="sendMessage")`."""
        return self.faults.add(Fault(kind, **options))  # type: ignore[arg-type]

    def clear_faults(self) -> None:
        """Remove every scripted failure."""
        self.faults.clear()

    def seed(self, seed: int | None) -> None:
        """Reseed the RNG of probabilistic faults."""
        self.faults.seed(seed)

    def set_limits(self, enabled: bool) -> None:
        """Turn the Telegram-like flood limits on or off."""
        self.api.limits = enabled

    def reset(self) -> None:
        """Forget users, chats, messages, updates, answers, faults and counters."""
        self.state.reset()
        self.faults.clear()
        self.stats = self.api.stats = Stats()
        self.limiter = self.api.limiter = RateLimiter(
            self.clock,
            overall=self.limiter.overall,
            chat_burst=self.limiter.chat_burst,
            group_per_minute=self.limiter.group_per_minute,
        )

    # the control API (JSON over HTTP, the same operations)

    def _control_routes(self) -> list[tuple[str, str, ControlHandler]]:
        """(HTTP method, path under /_control/, handler)."""
        return [
            ("POST", "reset", lambda body, _: self.reset()),
            ("POST", "users", lambda body, _: self.add_user(**_fields(body, "user_id"))),
            ("POST", "chats", lambda body, _: self.add_chat(**_fields(body, "chat_id"))),
            ("POST", "chats/{chat_id}/administrators", self._control_admins),
            ("POST", "block", lambda body, _: self.block(**body)),
            ("POST", "migrate", lambda body, _: self.migrate(**body)),
            ("POST", "updates/message", lambda body, _: self.send_text(**body)),
            ("POST", "updates/callback", lambda body, _: self.press_button(**body)),
            ("POST", "updates/inline_query", lambda body, _: self.inline_query(**body)),
            ("POST", "updates/document", self._control_document),
            ("POST", "updates/channel_post", lambda body, _: self.channel_post(**body)),
            ("POST", "updates/my_chat_member", lambda body, _: self.bot_membership(**body)),
            ("GET", "chats/{chat_id}/messages", self._control_messages),
            ("GET", "chats/{chat_id}/log", self._control_log),
            ("GET", "callback_answers", lambda body, _: self.callback_answers),
            ("GET", "inline_answers", lambda body, _: self.inline_answers),
            ("GET", "commands", self._control_commands),
            ("GET", "webhook", lambda body, _: self.state.webhook),
            ("GET", "stats", lambda body, _: self.stats.to_json()),
            ("GET", "faults", lambda body, _: [f.to_json() for f in self.faults.faults]),
            ("POST", "faults", lambda body, _: self.add_fault(**body).to_json()),
            ("DELETE", "faults", lambda body, _: self.clear_faults()),
            ("POST", "seed", lambda body, _: self.seed(body.get("seed"))),
            ("POST", "limits", lambda body, _: self.set_limits(bool(body["enabled"]))),
        ]

    def _control_admins(self, body: JSON, path: dict[str, str]) -> None:
        """POST chats/{chat_id}/administrators {"user_ids": [...]}."""
        self.set_administrators(int(path["chat_id"]), [int(i) for i in body["user_ids"]])

    def _control_document(self, body: JSON, path: dict[str, str]) -> int:
        """POST updates/document {chat_id, user_id, file_name, content | content_base64, …}."""
        data = body.pop("content_base64", None)
        raw = base64.b64decode(data) if data is not None else str(body.pop("content")).encode()
        return self.upload_document(data=raw, **body)

    def _control_messages(self, body: JSON, path: dict[str, str]) -> list[JSON]:
        """GET chats/{chat_id}/messages: the bot's messages as they stand."""
        return [_message_json(m) for m in self.messages(int(path["chat_id"]))]

    def _control_log(self, body: JSON, path: dict[str, str]) -> list[JSON]:
        """GET chats/{chat_id}/log: every event in the chat."""
        return [event.to_json() for event in self.chat_log(int(path["chat_id"]))]

    def _control_commands(self, body: JSON, path: dict[str, str]) -> list[JSON]:
        """GET commands?language_code=ko&scope={"type":"default"}."""
        scope = json.loads(body["scope"]) if body.get("scope") else None
        return self.commands(language_code=str(body.get("language_code", "")), scope=scope)


ControlHandler = Callable[[JSON, dict[str, str]], Any]


def _control(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Adapt a control handler: JSON body (or query) in, `{"ok": …, "result": …}` out."""

    async def handle(request: web.Request) -> web.Response:
        body: JSON = dict(request.query)
        if request.method in ("POST", "PUT") and request.can_read_body:
            try:
                posted = await request.json()
            except ValueError:
                return json_response({"ok": False, "description": "body is not JSON"}, 400)
            if isinstance(posted, dict):
                body.update(posted)
        try:
            result = handler(body, dict(request.match_info))
        except (KeyError, LookupError, TypeError, ValueError) as error:
            return json_response(
                {"ok": False, "description": f"{type(error).__name__}: {error}"}, 400
            )
        return json_response({"ok": True, "result": result})

    return handle


def _fields(body: JSON, id_name: str) -> JSON:
    """Control bodies name ids explicitly ("user_id"/"chat_id"); the Python API takes them first."""
    fields = dict(body)
    return {"user_id" if id_name == "user_id" else "chat_id": fields.pop(id_name), **fields}


def _message_json(message: Message) -> JSON:
    """A stored message for the control API."""
    return {
        "message_id": message.message_id,
        "chat_id": message.chat_id,
        "date": message.date,
        "text": message.text,
        "entities": message.entities,
        "reply_markup": message.reply_markup,
        "document": message.document,
        "reply_to_message_id": message.reply_to_message_id,
        "link_preview_options": message.link_preview_options,
        "edits": message.edits,
        "deleted": message.deleted,
    }


async def read_params(request: web.Request) -> Params:
    """Parameters from the query string and a JSON, form-urlencoded or multipart body."""
    values: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return Params(values)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if isinstance(body, dict):
            values.update(body)
        return Params(values)
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            values[key] = Upload(value.filename, value.content_type, value.file.read())
        else:
            values[key] = value
    return Params(values)


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without any HTTP answer."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError


async def serve(*, host: str, port: int, token: str, limits: bool) -> None:
    """Run an emulator until cancelled, printing its base URL (never the token) on start."""
    emulator = Emulator(token=token, limits=limits)
    async with emulator.running(port=port, host=host):
        print(f"Bot API emulator listening: base_url={emulator.base_url}", flush=True)
        print(f"file base_url={emulator.base_file_url}; control API at {emulator.url}/_control/")
        await asyncio.Event().wait()
