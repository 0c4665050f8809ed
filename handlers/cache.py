"""A cache of archive reads for the look-up commands and inline mode.

The archive changes when a digest is ingested (a few times a day) while the same papers,
searches and the latest digest are asked for again and again. Answering from memory is what
lets the bot handle hundreds of look-ups a second (bench/commands.py: ~100 updates/s without
it). The cache is dropped as soon as the archive's version (`archive_version`, read at most
once a `VERSION_EVERY`) changes, whichever process ingested: a new digest shows within a
second. Per-chat data (settings, language) is never cached here.

The cache is bounded by an estimate of its entries' memory (`weigh`) as well as their number:
a stored paper is ~5 KB, an author's page ~10 KB, a day's digest ~120 KB; 4,096 entries of
mixed look-ups held ~40 MB (bench/memory.py, 300 commands/s over a 100,000-paper archive).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import ContextTypes

from bot.services import get_services
from storage.papers import archive_version

CACHE_KEY = "read_cache"
VERSION_EVERY = 1.0  # seconds between reads of the archive's version
MAX_BYTES = 4 * 2**20  # what the entries may hold in all, by `weigh`'s estimate
T = TypeVar("T")


def weigh(value: object, seen: set[int] | None = None) -> int:
    """Roughly the bytes `value` holds: itself and what it refers to (containers, models,
    dataclasses), each object counted once."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return size
    if isinstance(value, dict):
        return size + sum(weigh(k, seen) + weigh(v, seen) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return size + sum(weigh(item, seen) for item in value)
    if isinstance(value, BaseModel):
        return size + weigh(value.__dict__, seen)
    if is_dataclass(value):
        return size + sum(weigh(getattr(value, f.name, None), seen) for f in fields(value))
    return size


@dataclass(slots=True)
class ReadCache:
    """The newest reads, at most `size` of them and `max_bytes` (by `weigh`) in all, each
    kept for `ttl` seconds (size 0 turns caching off)."""

    ttl: float = 60.0
    size: int = 4096
    max_bytes: int = MAX_BYTES
    entries: OrderedDict[Hashable, tuple[float, Any, int]] = field(default_factory=OrderedDict)
    held: int = 0  # bytes the entries hold, by `weigh`
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
            self.held = 0
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
        """Remember `value` until `now + ttl`, forgetting the least recently used beyond `size`
        entries or `max_bytes`."""
        if self.size <= 0:
            return
        weight = weigh(value)
        if weight > self.max_bytes:
            return
        old = self.entries.pop(key, None)
        self.held += weight - (old[2] if old is not None else 0)
        self.entries[key] = (now + self.ttl, value, weight)
        while len(self.entries) > self.size or self.held > self.max_bytes:
            self.held -= self.entries.popitem(last=False)[1][2]


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
