"""A short-lived cache of archive reads for the look-up commands and inline mode.

The archive changes when a digest is ingested (a few times a day) while the same papers,
searches and the latest digest are asked for again and again; a minute of staleness is the
price of answering those from memory. Per-chat data (settings, language) is never cached here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import ContextTypes

from bot.services import get_services

CACHE_KEY = "read_cache"
T = TypeVar("T")


@dataclass(slots=True)
class ReadCache:
    """The newest `size` reads, each kept for `ttl` seconds (size 0 turns caching off)."""

    ttl: float = 60.0
    size: int = 4096
    entries: OrderedDict[Hashable, tuple[float, Any]] = field(default_factory=OrderedDict)

    def get(self, key: Hashable, now: float) -> tuple[bool, Any]:
        """(True, value) while `key` is fresh, else (False, None)."""
        found = self.entries.get(key)
        if found is None or found[0] <= now:
            return False, None
        self.entries.move_to_end(key)
        return True, found[1]

    def put(self, key: Hashable, value: Any, now: float) -> None:
        """Remember `value` until `now + ttl`, forgetting the least recently used beyond `size`."""
        if self.size <= 0:
            return
        self.entries[key] = (now + self.ttl, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def read_cache(context: ContextTypes.DEFAULT_TYPE) -> ReadCache:
    """The application's cache (created on first use; put one in bot_data to configure it)."""
    cache = context.bot_data.get(CACHE_KEY)
    if not isinstance(cache, ReadCache):
        cache = context.bot_data[CACHE_KEY] = ReadCache()
    return cache


async def cached(
    context: ContextTypes.DEFAULT_TYPE,
    key: Hashable,
    load: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """`load(session)`'s result for `key`, read from the archive at most once a `ttl`."""
    services = get_services(context)
    cache = read_cache(context)
    now = services.clock().timestamp()
    hit, value = cache.get(key, now)
    if hit:
        return value  # type: ignore[no-any-return]
    async with services.sessions() as session:
        value = await load(session)
    cache.put(key, value, now)
    return value
