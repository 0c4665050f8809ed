"""A scheduled day under test: a folder source, a fake clock, the dispatcher and the engine.

Everything real (SQLite file, the emulator over loopback HTTP, the engine's bot) except time:
the clock is moved by hand, so settle periods and delivery times pass without sleeping.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re
import time
import zoneinfo
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.config import Settings, load_settings
from bot.content.sources import Poller, PollReport, parse_sources
from bot.delivery.dispatch import DispatchReport, SchedulePolicy, dispatch
from bot.delivery.engine import DeliveryEngine, build_delivery_bot
from bot.delivery.ratelimit import Limits, RateScheduler
from bot.emulator import Emulator
from storage.chats import subscribe, update_settings
from storage.db import create_engine, session_factory
from tests.delivery.conftest import FAST_RETRY

TOKEN = "123456:schedule-test-token-abcdefghijklmnop"
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
SAMPLE = (
    Path(__file__).resolve().parents[2] / "bot" / "samples" / "daily_papers_ko" / "2025/01/24.md"
)


def seoul(day: int, hour: int, minute: int = 0, month: int = 1) -> dt.datetime:
    """A moment in January 2025, given in Seoul time, as UTC."""
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SEOUL).astimezone(dt.UTC)


def sample_blocks() -> list[str]:
    """The paper blocks (`### [...`) of the 2025-01-24 sample digest, in file order."""
    text = SAMPLE.read_text(encoding="utf-8")
    return ["### " + part.strip() + "\n" for part in re.split(r"^### ", text, flags=re.M)[1:]]


def digest_text(day: dt.date, blocks: Sequence[str]) -> str:
    """A Markdown digest for `day` made of the given paper blocks."""
    return f"## Daily Papers ({day.isoformat()})\n\n" + "\n".join(blocks)


def title_of(block: str) -> str:
    """The title of a paper block."""
    match = re.match(r"### \[(.+?)\]\(", block)
    assert match is not None
    return match[1]


@dataclass(slots=True)
class Clock:
    """A controllable UTC clock."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        """The current fake time."""
        return self.now

    def at(self, moment: dt.datetime) -> None:
        """Jump to `moment`."""
        self.now = moment


@dataclass(slots=True)
class Day:
    """The pieces of a scheduled-day test."""

    emulator: Emulator
    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    folder: Path
    clock: Clock
    policy: SchedulePolicy = field(default_factory=SchedulePolicy)

    def write(self, day: dt.date, text: str) -> Path:
        """Put (or replace) a day's digest file in the source folder."""
        path = self.folder / f"{day:%Y/%m/%d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    async def poll(self) -> PollReport:
        """Poll the folder source once at the clock's time."""
        sources = parse_sources([str(self.folder)])
        async with Poller(sources, sessions=self.sessions, clock=self.clock) as poller:
            return await poller.poll()

    async def dispatch(self) -> DispatchReport:
        """One dispatch pass at the clock's time, committed."""
        async with self.sessions.begin() as session:
            return await dispatch(
                session, now=self.clock(), settings=self.settings, policy=self.policy
            )

    async def deliver(self) -> None:
        """Send every queued row through the emulator (a fresh engine, as the job would)."""
        engine = DeliveryEngine(
            bot=self.bot,
            sessions=self.sessions,
            scheduler=RateScheduler(Limits.unlimited(), time.monotonic),
            clock=self.clock,
            policy=FAST_RETRY,
            rng=random.Random(3),
        )
        await engine.drain()

    async def subscribe(self, chat_id: int, **settings: Any) -> None:
        """Subscribe a chat (09:00 Asia/Seoul) before the day starts, with settings changed."""
        async with self.sessions.begin() as session:
            await subscribe(
                session,
                chat_id=chat_id,
                type="private" if chat_id > 0 else "group",
                title=None,
                delivery_time="09:00",
                timezone="Asia/Seoul",
                now=self.clock() - dt.timedelta(days=30),
            )
            if settings:
                await update_settings(session, chat_id=chat_id, **settings)


@contextlib.asynccontextmanager
async def open_day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """An empty database, the emulator, a delivery bot and an empty source folder."""
    engine = create_engine(database_url)
    emulator = Emulator(token=TOKEN, seed=1)
    folder = tmp_path / "digests"
    folder.mkdir()
    async with emulator.running(port=0):
        settings = load_settings(
            telegram_bot_token=SecretStr(TOKEN),
            telegram_api_base_url=emulator.base_url,
            database_url=database_url,
            default_language="en",
            digest_sources=(str(folder),),
            _env_file=None,
        )
        bot = build_delivery_bot(TOKEN, base_url=emulator.base_url, read_timeout=2.0)
        async with bot:
            yield Day(emulator, bot, session_factory(engine), settings, folder, Clock(seoul(24, 7)))
    await engine.dispose()
