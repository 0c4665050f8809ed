"""A cache of archive reads for the look-up commands and inline mode.

The archive changes when a digest is ingested (a few times a day) while the same papers,
searches and the latest digest are asked for again and again. Answering from memory is what
lets the bot handle hundreds of look-ups a second (bench/commands.py: ~100 updates/s without
it). The cache is dropped as soon as the archive's version (`archive_version`, read at most
once a `VERSION_EVERY`) changes, whichever process ingested: a new digest shows within a
second. Per-chat data (settings, language) is never cached here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import ContextTypes

from bot.services import get_services
from storage.papers import archive_version

CACHE_KEY = "read_cache"
VERSION_EVERY = 1.0  # seconds between reads of the archive's version
T = TypeVar("T")


@dataclass(slots=True)
class ReadCache:
    """The newest `size` reads, each kept for `ttl` seconds (size 0 turns caching off)."""

    ttl: float = 60.0
    size: int = 4096
    entries: OrderedDict[Hashable, tuple[float, Any]] = field(default_factory=OrderedDict)
    version: int | None = None
    checked_at: float = float("-inf")
    generation: int = 0  # bumped on every clear: a load begun before it must not be kept

    def due_for_check(self, now: float) -> bool:
        """Whether the archive's version should be read again (claims the check when so)."""
        if now - self.checked_at < VERSION_EVERY and now >= self.checked_at:
            return False
        self.checked_at = now  # before the read: concurrent handlers do not read it too
        return True

    def observe(self, version: int) -> None:
        """Forget everything when the archive's version changed since it was last seen."""
        if version != self.version:
            self.entries.clear()
            self.version = version
            self.generation += 1

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
    if cache.due_for_check(now):
        async with services.sessions() as session:
            cache.observe(await archive_version(session))
    hit, value = cache.get(key, now)
    if hit:
        return value  # type: ignore[no-any-return]
    generation = cache.generation
    async with services.sessions() as session:
        value = await load(session)
    if cache.generation == generation:  # else the archive changed while this load ran
        cache.put(key, value, now)
    return value
