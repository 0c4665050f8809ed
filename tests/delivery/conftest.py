"""Fixtures for delivery tests: a migrated SQLite file, the emulator on loopback, an engine."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot

from bot.delivery.engine import DeliveryEngine, RetryPolicy, build_delivery_bot
from bot.delivery.ratelimit import Limits, RateScheduler
from bot.emulator import Emulator
from storage.chats import subscribe
from storage.db import create_engine, session_factory
from storage.deliveries import Kind, add_delivery, new_delivery

TOKEN = "123456:delivery-test-token-abcdefghijklmnop"
DAY = dt.date(2025, 3, 14)
FAST_RETRY = RetryPolicy(max_attempts=3, base=0.01, cap=0.05, jitter=0.5)


def utc_now() -> dt.datetime:
    """The real clock (the engine's retries need time to pass)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Outbox:
    """The pieces a delivery test works with."""

    emulator: Emulator
    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    database_url: str

    def engine(
        self, *, limits: Limits | None = None, policy: RetryPolicy = FAST_RETRY
    ) -> DeliveryEngine:
        """A fresh engine (as after a restart) over the same database and emulator."""
        return DeliveryEngine(
            bot=self.bot,
            sessions=self.sessions,
            scheduler=RateScheduler(limits or Limits.unlimited(), _monotonic),
            clock=utc_now,
            policy=policy,
            rng=random.Random(7),
        )

    async def subscribe(self, *chat_ids: int) -> None:
        """Subscribe chats (private for positive ids, groups for negative ones)."""
        async with self.sessions.begin() as session:
            for chat_id in chat_ids:
                kind = "private" if chat_id > 0 else "group"
                await subscribe(
                    session,
                    chat_id=chat_id,
                    type=kind,
                    title=None,
                    delivery_time="09:00",
                    timezone="Asia/Seoul",
                )

    async def queue(
        self,
        chat_id: int,
        messages: Sequence[str],
        *,
        kind: Kind = "digest",
        seq: int = 0,
        day: dt.date = DAY,
    ) -> int:
        """Queue one outbox row and return its id."""
        async with self.sessions.begin() as session:
            row_id = await add_delivery(
                session,
                row=new_delivery(
                    chat_id=chat_id,
                    digest_date=day,
                    kind=kind,
                    seq=seq,
                    messages=messages,
                    arxiv_ids=[],
                    known_ids=[],
                    now=utc_now(),
                ),
            )
        assert row_id is not None
        return row_id


def _monotonic() -> float:
    """The scheduler's clock in engine tests: real monotonic time."""
    import time

    return time.monotonic()


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[Outbox]:
    """An empty migrated database, the emulator (no limits) and a delivery bot pointed at it."""
    engine: AsyncEngine = create_engine(database_url)
    emulator = Emulator(token=TOKEN, seed=1)
    async with emulator.running(port=0):
        bot = build_delivery_bot(TOKEN, base_url=emulator.base_url, read_timeout=0.5)
        async with bot:
            yield Outbox(emulator, bot, session_factory(engine), database_url)
    await engine.dispose()
