"""The read cache's invalidation: a load that raced with an archive change is not kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import ContextTypes

from bot.config import load_settings
from bot.services import SERVICES_KEY, Services
from handlers.cache import ReadCache, cached, read_cache, weigh
from storage.db import create_engine, session_factory, upgrade


async def test_a_load_overtaken_by_an_archive_change_is_not_cached(tmp_path: Path) -> None:
    """A handler that read the old archive while another saw the new version and cleared the
    cache must not put its stale answer back (it would be served until the TTL ran out)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cache.sqlite3'}"
    await upgrade(url)
    engine = create_engine(url)
    now = dt.datetime(2025, 1, 30, tzinfo=dt.UTC)
    settings = load_settings(telegram_bot_token=SecretStr("1:x"), database_url=url, _env_file=None)
    services = Services(settings, session_factory(engine), clock=lambda: now)
    context = cast(ContextTypes.DEFAULT_TYPE, SimpleNamespace(bot_data={SERVICES_KEY: services}))
    cache = read_cache(context)

    async def old_then_changed(_session: AsyncSession) -> str:
        cache.observe(cast(int, cache.version) + 1)  # a concurrent handler saw an ingest
        return "old"

    async def fresh(_session: AsyncSession) -> str:
        return "fresh"

    try:
        assert await cached(context, "key", old_then_changed) == "old"  # this caller only
        assert await cached(context, "key", fresh) == "fresh"  # not the stale value
        assert await cached(context, "key", old_then_changed) == "fresh"  # kept from now on
    finally:
        await engine.dispose()


def test_the_cache_forgets_the_oldest_reads_beyond_its_memory_budget() -> None:
    """Entries are bounded by their estimated bytes, not only by their number: a few large
    reads (a day's digest) push out the least recently used ones."""
    cache = ReadCache(max_bytes=20_000)
    for key in range(5):
        cache.put(key, ["x" * 3_000, "y" * 2_000], now=0.0)
    assert list(cache.entries) == [2, 3, 4]
    assert cache.held == sum(entry[2] for entry in cache.entries.values()) <= 20_000
    cache.put("huge", "z" * 30_000, now=0.0)  # larger than the whole budget: never kept
    assert "huge" not in cache.entries


def test_weigh_counts_what_a_read_refers_to() -> None:
    """Nested texts count, and an object referred to twice counts once."""
    text = "abstract " * 200
    assert weigh([text, text]) < 2 * len(text)
    assert weigh({"papers": [text]}) > len(text)
