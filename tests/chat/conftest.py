"""The shared end-to-end fixture: the real Application long-polling the emulator over loopback.

`chat.send("/paper 2401.00908", user=..., chat=...)` injects an update, waits (event-driven, no
sleeps) until the Application has fully processed it, and returns the bot's new messages there;
`chat.press(reply, data)` presses a button and returns everything the bot did (answer, edits).
Replies travel over real HTTP (sendMessage and friends) and updates arrive by real getUpdates
long polling; the archive is a fresh SQLite copy (PostgreSQL too when configured) holding the
bundled sample digests. The clock is controllable: `chat.clock.advance(seconds)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.app import build_application
from bot.cli.console import Seen  # the console waits for updates the same way
from bot.config import load_settings
from bot.emulator import ChatEvent, Emulator
from bot.emulator.state import command_entities, message_to_api
from bot.services import Services
from handlers.common import CommandRateLimit
from storage.db import create_engine, session_factory

TOKEN = "123456789:test-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
USER = 1001
ANONYMOUS_ADMIN_BOT = 1087968824  # the "GroupAnonymousBot" user Telegram puts in `from`
FIRST_GROUP = -1_000_000  # the marker runs before anything else, even the rate limit


@dataclass(slots=True)
class FakeClock:
    """A controllable tz-aware UTC clock."""

    now: dt.datetime = dt.datetime(2025, 1, 30, 3, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += dt.timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    """One thing the bot did in a chat: a message, an edit, a callback answer or a deletion."""

    kind: str
    chat_id: int
    message_id: int
    text: str
    buttons: list[Button]
    show_alert: bool

    @classmethod
    def of(cls, event: ChatEvent) -> Reply:
        """Wrap an emulator chat-log event."""
        rows = (event.reply_markup or {}).get("inline_keyboard", [])
        buttons = [
            Button(b.get("text", ""), b.get("callback_data"), b.get("url"))
            for row in rows
            for b in row
        ]
        return cls(
            event.kind, event.chat_id, event.message_id, event.text, buttons, event.show_alert
        )


@dataclass(slots=True)
class ChatDriver:
    """Talk to the bot as users, groups and channels; read what it answered."""

    emulator: Emulator
    application: Application[Any, Any, Any, Any, Any, Any]
    services: Services
    clock: FakeClock
    seen: Seen

    async def processed(self, update_id: int) -> None:
        """Wait until `update_id` was fetched and every fetched update was fully handled."""
        async with self.seen.changed:
            await asyncio.wait_for(
                self.seen.changed.wait_for(lambda: update_id in self.seen.ids), timeout=10
            )
        await asyncio.wait_for(self.application.update_queue.join(), timeout=10)

    async def _run(self, chat_id: int, inject: Any) -> list[Reply]:
        """Inject an update, wait for it, return the chat's new log events."""
        before = len(self.emulator.chat_log(chat_id))
        await self.processed(inject())
        return [Reply.of(event) for event in self.emulator.chat_log(chat_id)[before:]]

    async def send(
        self, text: str, *, user: int = USER, chat: int | None = None, language_code: str = "en"
    ) -> list[Reply]:
        """A user sends `text` (private chat by default); the bot's new messages there."""
        chat_id = user if chat is None else chat

        def inject() -> int:
            return self.emulator.send_text(
                chat_id=chat_id, user_id=user, text=text, language_code=language_code
            )

        return [r for r in await self._run(chat_id, inject) if r.kind == "message"]

    async def press(
        self, reply: Reply, data: str | None, *, user: int = USER, chat: int | None = None
    ) -> list[Reply]:
        """A user presses a button (any data, forged too); everything the bot did in reply."""
        chat_id = reply.chat_id if chat is None else chat

        def inject() -> int:
            return self.emulator.press_button(
                chat_id=chat_id, user_id=user, message_id=reply.message_id, data=data or ""
            )

        return await self._run(chat_id, inject)

    async def post(self, text: str, *, chat: int) -> list[Reply]:
        """A channel post (commands from a channel's admins); the bot's new messages there."""
        return [
            r
            for r in await self._run(
                chat, lambda: self.emulator.channel_post(chat_id=chat, text=text)
            )
            if r.kind == "message"
        ]

    async def migrate(self, old: int, new: int, *, user: int) -> None:
        """Group `old` became supergroup `new`: deliver the `migrate_to_chat_id` service message
        (sent by `user`) and wait until it is handled."""
        state = self.emulator.state
        room = state.add_chat(old)
        message = state.add_message(room, state.user(user))
        payload = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": room.to_api(),
            "from": state.user(user).to_api(),
            "migrate_to_chat_id": new,
        }
        await self.processed(state.push_update("message", payload))

    async def send_as_group(self, text: str, *, chat: int) -> list[Reply]:
        """An anonymous group admin (sender_chat is the group itself) sends `text`."""
        state = self.emulator.state

        def inject() -> int:
            room = state.add_chat(chat)
            sender = state.user(
                ANONYMOUS_ADMIN_BOT, first_name="Group", username="GroupAnonymousBot"
            )
            message = state.add_message(room, sender, text=text, entities=command_entities(text))
            payload = message_to_api(message, room) | {"sender_chat": room.to_api()}
            return state.push_update("message", payload)

        return [r for r in await self._run(chat, inject) if r.kind == "message"]


def texts(replies: list[Reply]) -> str:
    """All reply texts joined, for substring checks."""
    return "\n".join(reply.text for reply in replies)


@pytest.fixture
def chat_rate() -> CommandRateLimit:
    """The command rate limit the fixture's Application uses (tests may inspect it)."""
    return CommandRateLimit()


@contextlib.asynccontextmanager
async def running_bot(
    database_url: str, *, command_rate: CommandRateLimit | None = None, **settings: Any
) -> AsyncIterator[ChatDriver]:
    """The real Application polling a fresh emulator over `database_url` (settings overridable)."""
    engine = create_engine(database_url)
    clock = FakeClock()
    emulator = Emulator(token=TOKEN)
    seen = Seen()
    try:
        async with emulator.running(port=0):
            configured = load_settings(
                telegram_bot_token=SecretStr(TOKEN),
                telegram_api_base_url=emulator.base_url,
                database_url=database_url,
                _env_file=None,
                **settings,
            )
            services = Services(configured, session_factory(engine), clock)
            application = build_application(
                configured,
                services=services,
                extra_handlers=[(TypeHandler(Update, seen.mark), FIRST_GROUP)],
                command_rate=command_rate,
                rate_limiter=None,
            )
            async with application:
                await application.start()
                assert application.updater is not None
                await application.updater.start_polling(poll_interval=0.0, timeout=2)
                try:
                    yield ChatDriver(emulator, application, services, clock, seen)
                finally:
                    await application.updater.stop()
                    await application.stop()
    finally:
        await engine.dispose()


@pytest.fixture
async def chat(seeded_database_url: str, chat_rate: CommandRateLimit) -> AsyncIterator[ChatDriver]:
    """The real Application polling the emulator, over an archive with the sample digests."""
    async with running_bot(seeded_database_url, command_rate=chat_rate) as driver:
        yield driver
