"""A dispatch pass planned and inserted a few chats at a time queues every row exactly once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.delivery.dispatch import dispatch
from storage.deliveries import Delivery
from tests.delivery.daykit import Day, digest_text, open_day, sample_blocks, seoul

DAY = dt.date(2025, 1, 24)
PRIVATE = list(range(1, 21))
GROUPS = [-1, -2, -3]
PICKY = {4, 9, -2}  # keywords nothing matches: an empty selection, a `skipped` row


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """The scheduled-day kit."""
    async with open_day(database_url, tmp_path) as kit:
        yield kit


async def _pass(day: Day, batch: int) -> tuple[int, int, int]:
    """One committed dispatch pass `batch` chats at a time: (digests, updates, empty)."""
    async with day.sessions.begin() as session:
        report = await dispatch(
            session, now=day.clock(), settings=day.settings, policy=day.policy, chat_batch=batch
        )
    return report.digests, report.updates, report.empty


async def test_batched_pass_queues_each_chat_once(day: Day) -> None:
    """23 chats in batches of 4 (a last short one): one row each, none twice, in every pass."""
    for chat_id in PRIVATE + GROUPS:
        keywords = ["zzzz-nothing-matches"] if chat_id in PICKY else None
        await day.subscribe(chat_id, **({"include_keywords": keywords} if keywords else {}))
    blocks = sample_blocks()
    day.write(DAY, digest_text(DAY, blocks[:2]))
    await day.poll()
    day.clock.at(seoul(24, 9))
    chats = len(PRIVATE) + len(GROUPS)
    assert await _pass(day, 4) == (chats - len(PICKY), 0, len(PICKY))
    assert await _pass(day, 4) == (0, 0, 0)

    day.clock.at(seoul(24, 10))
    day.write(DAY, digest_text(DAY, blocks[:3]))  # one paper more: an update for everyone
    await day.poll()
    day.clock.at(seoul(24, 11))
    assert await _pass(day, 3) == (0, chats - len(PICKY), len(PICKY))
    assert await _pass(day, 5) == (0, 0, 0)

    async with day.sessions() as session:
        keys = (await session.execute(select(Delivery.chat_id, Delivery.kind))).all()
    assert Counter(keys) == Counter(
        {(chat_id, kind): 1 for chat_id in PRIVATE + GROUPS for kind in ("digest", "update")}
    )
