"""`paperboy console`: chat with the real bot in the terminal, offline, through the emulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.app import build_application
from bot.config import Settings
from bot.content.ingest import ingest_samples
from bot.content.summarizer import Summarizer
from bot.emulator import ChatEvent, Emulator
from bot.fakes.llm import FakeLLM
from bot.services import Services
from storage.db import create_engine, session_factory, upgrade

CONSOLE_TOKEN = "100000001:console-offline-token-not-secret"
USER_ID = 1001
QUIT = "/quit"
_PRESS = re.compile(r":?(\d{1,3})")
_ANSI = {  # entity type → (start, end) codes
    "bold": ("\x1b[1m", "\x1b[22m"),
    "italic": ("\x1b[3m", "\x1b[23m"),
    "underline": ("\x1b[4m", "\x1b[24m"),
    "strikethrough": ("\x1b[9m", "\x1b[29m"),
    "code": ("\x1b[2m", "\x1b[22m"),
    "pre": ("\x1b[2m", "\x1b[22m"),
}
SAMPLE_HF_DAY = dt.date(2025, 1, 10)  # the bundled HF list: no Korean digest that day
FAKE_MODEL = "paperboy-offline-fake"
WELCOME = (
    "paperboy console: the real bot, offline, with the sample digests loaded.\n"
    "Try /help, /today, /paper 2401.00908, /search diffusion. /digest 2025-01-10 shows a day\n"
    "summarized in Korean by paperboy itself (through a local stand-in for a model endpoint).\n"
    "Press a button by typing its number (1 or :1). /quit exits."
)


def _marks(entities: Sequence[Mapping[str, Any]], *, ansi: bool) -> dict[int, list[str]]:
    """What to insert at each UTF-16 offset: ANSI styles, `│ ` quotes, ` <url>` after links."""
    marks: dict[int, list[str]] = defaultdict(list)
    for entity in sorted(entities, key=lambda item: int(item.get("offset", 0))):
        start = int(entity.get("offset", 0))
        end = start + int(entity.get("length", 0))
        kind = str(entity.get("type", ""))
        if kind == "blockquote":
            marks[start].append("│ ")
        if ansi and kind in _ANSI:
            marks[start].append(_ANSI[kind][0])
            marks[end].insert(0, _ANSI[kind][1])
        if kind == "text_link":
            marks[end].insert(0, f" <{entity.get('url', '')}>")
    return marks


def entities_to_terminal(text: str, entities: Sequence[Mapping[str, Any]], *, ansi: bool) -> str:
    """A message as Telegram shows it, for a terminal: styles as ANSI codes (when `ansi`) and
    links as `text <url>`. Entity offsets count UTF-16 code units, as in the Bot API."""
    units = text.encode("utf-16-le")
    marks = _marks(entities, ansi=ansi)
    parts: list[str] = []
    done = 0
    for cut in sorted(offset for offset in marks if 0 <= offset <= len(units) // 2):
        parts.append(units[done * 2 : cut * 2].decode("utf-16-le", errors="replace"))
        parts.extend(marks[cut])
        done = cut
    parts.append(units[done * 2 :].decode("utf-16-le", errors="replace"))
    return "".join(parts)


@dataclass(slots=True)
class Screen:
    """What the user sees: printed replies and the buttons of the latest keyboard."""

    out: TextIO
    ansi: bool
    buttons: list[tuple[int, str]] = field(default_factory=list)  # (message_id, callback data)

    def show(self, event: ChatEvent) -> None:
        """Print one bot message (or edit) with its buttons numbered `[1] ◀`."""
        mark = "(edited) " if event.kind == "edit" else ""
        text = entities_to_terminal(event.text, event.entities, ansi=self.ansi)
        self.out.write(f"\n{mark}{text}\n")
        message_id = event.message_id
        keyboard: list[list[Any]] = (event.reply_markup or {}).get("inline_keyboard", [])
        if keyboard:
            self.buttons = []
            for row in keyboard:
                labels = []
                for button in row:
                    self.buttons.append((message_id, str(button.get("callback_data", ""))))
                    labels.append(f"[{len(self.buttons)}] {button.get('text', '')}")
                self.out.write("  ".join(labels) + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        """Print a line from the console itself (not the bot)."""
        self.out.write(f"· {text}\n")
        self.out.flush()


@dataclass(slots=True)
class Seen:
    """Update ids the Application has started processing, to wait without sleeping."""

    ids: set[int] = field(default_factory=set)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def mark(self, update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler in the first group: note that `update` reached the Application."""
        if isinstance(update, Update):
            async with self.changed:
                self.ids.add(update.update_id)
                self.changed.notify_all()

    async def processed(
        self, application: Application[Any, Any, Any, Any, Any, Any], uid: int
    ) -> None:
        """Wait until update `uid` was fetched and every queued update was handled."""
        async with self.changed:
            await self.changed.wait_for(lambda: uid in self.ids)
        await application.update_queue.join()


def console_database(settings: Settings, folder: Path) -> str:
    """The configured database when one was set explicitly, else a SQLite file in `folder`."""
    if "database_url" in settings.model_fields_set:
        return settings.database_url
    return f"sqlite+aiosqlite:///{folder / 'console.sqlite3'}"


@contextlib.asynccontextmanager
async def offline_bot(
    settings: Settings, *, database_url: str, seen: Seen
) -> AsyncIterator[tuple[Emulator, Application[Any, Any, Any, Any, Any, Any]]]:
    """The emulator and the real Application polling it, over an archive with the samples."""
    await upgrade(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    await ingest_samples(sessions=sessions)
    emulator, model = Emulator(token=CONSOLE_TOKEN), FakeLLM()
    # The console user speaks the deployment's default language (Korean unless configured).
    emulator.add_user(USER_ID, first_name="You", language_code=settings.default_language)
    try:
        async with emulator.running(port=0), model.running():
            local = settings.model_copy(
                update={
                    "telegram_bot_token": SecretStr(CONSOLE_TOKEN),
                    "telegram_api_base_url": emulator.base_url,
                    "database_url": database_url,
                    "summary_api_base_url": model.base_url,
                    "summary_api_key": None,
                    "summary_model": FAKE_MODEL,
                }
            )
            async with Summarizer(local, sessions=sessions) as summarizer:
                await summarizer.summarize_days([SAMPLE_HF_DAY])
            services = Services(local, sessions, lambda: dt.datetime.now(dt.UTC))
            marker = (TypeHandler(Update, seen.mark), -1000)
            application = build_application(local, services=services, extra_handlers=[marker])
            async with application:
                await application.start()
                assert application.updater is not None
                await application.updater.start_polling(poll_interval=0.0, timeout=10)
                try:
                    yield emulator, application
                finally:
                    await application.updater.stop()
                    await application.stop()
    finally:
        await engine.dispose()


async def _read_line(stream: TextIO, *, interactive: bool) -> str | None:
    """The next line the user typed (None at end of input)."""
    if interactive:
        try:
            return await asyncio.to_thread(input, "you> ")
        except EOFError:
            return None
    line = await asyncio.to_thread(stream.readline)
    return line.rstrip("\n") if line else None


async def _exchange(
    line: str,
    *,
    emulator: Emulator,
    application: Application[Any, Any, Any, Any, Any, Any],
    seen: Seen,
    screen: Screen,
) -> None:
    """Send what the user typed (text or a button press) and print the bot's replies."""
    before = emulator.chat_log(USER_ID)
    press = _PRESS.fullmatch(line.strip())
    if press is not None:
        index = int(press.group(1))
        if not 1 <= index <= len(screen.buttons):
            screen.note(f"there is no button {index}")
            return
        message_id, data = screen.buttons[index - 1]
        uid = emulator.press_button(
            chat_id=USER_ID, user_id=USER_ID, message_id=message_id, data=data
        )
    else:
        uid = emulator.send_text(chat_id=USER_ID, user_id=USER_ID, text=line)
    await seen.processed(application, uid)
    for event in emulator.chat_log(USER_ID)[len(before) :]:
        _print_event(event, screen)


def _print_event(event: ChatEvent, screen: Screen) -> None:
    """Show one thing the bot did in the chat: a message, an edit or a callback answer."""
    if event.kind == "answer":
        if event.text:
            screen.note(event.text)
    elif event.kind in ("message", "edit"):
        screen.show(event)


async def chat(settings: Settings, *, stdin: TextIO, stdout: TextIO, database_url: str) -> None:
    """Run the console until /quit or end of input."""
    interactive = stdin.isatty()
    screen = Screen(stdout, ansi=stdout.isatty())
    seen = Seen()
    async with offline_bot(settings, database_url=database_url, seen=seen) as (emu, app):
        screen.note(WELCOME)
        while (line := await _read_line(stdin, interactive=interactive)) is not None:
            if line.strip() == QUIT:
                break
            if line.strip():
                await _exchange(line, emulator=emu, application=app, seen=seen, screen=screen)


def run_console(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy console`: a temporary archive unless a database was configured explicitly."""
    with tempfile.TemporaryDirectory(prefix="paperboy-console-") as folder:
        url = console_database(settings, Path(folder))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(chat(settings, stdin=sys.stdin, stdout=sys.stdout, database_url=url))
    return 0
