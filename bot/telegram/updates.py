"""How updates reach the handlers: at most N at once, repeats dropped, each counted and timed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import SimpleUpdateProcessor

from bot import metrics

log = logging.getLogger(__name__)
REMEMBERED_UPDATES = 2048  # Telegram retries a webhook post for minutes, not for thousands of ids
# Updates taken from Telegram but not handled yet; more wait at Telegram. The handlers work on
# CONCURRENT_UPDATES (bot/app.py) at a time, so 64 keeps them busy; 256 held ~1.5 MB more
# under a burst and answered no faster (bench/memory.py).
MAX_IN_HAND = 64


class UpdateBacklog(asyncio.Queue[object]):
    """PTB's update queue, bounded by the updates in hand: queued or being handled.

    PTB takes updates as fast as Telegram hands them out and starts a task for each at once,
    whatever the handlers' pace: 300 commands/s on a machine that answered 100/s piled up
    thousands of updates in memory (~7 KB each with its task), +60 MB in 20 s (bench/memory.py).
    Here `put` waits while `limit` updates are in hand, so the poller (or the webhook's answer)
    waits and the rest stay queued at Telegram. `task_done` (PTB calls it once an update was
    handled) makes room. Anything but an update (PTB's stop signal) never waits.
    """

    def __init__(self, limit: int = MAX_IN_HAND) -> None:
        super().__init__()
        self.limit = limit
        self.in_hand = 0
        self._room = asyncio.Event()
        self._room.set()

    async def put(self, item: object) -> None:
        """Queue `item` once fewer than `limit` updates are in hand."""
        while isinstance(item, Update) and self.in_hand >= self.limit:
            self._room.clear()
            await self._room.wait()
        await super().put(item)

    def put_nowait(self, item: object) -> None:
        """Queue `item` now (`put` waited for room when it mattered)."""
        super().put_nowait(item)
        self.in_hand += 1

    def task_done(self) -> None:
        """One item was handled: room for another."""
        super().task_done()
        self.in_hand = max(0, self.in_hand - 1)
        if self.in_hand < self.limit:
            self._room.set()


class RecentIds:
    """The last `size` ids seen: a set for the look-up, a deque to forget the oldest."""

    def __init__(self, size: int = REMEMBERED_UPDATES) -> None:
        self._order: deque[int] = deque()
        self._seen: set[int] = set()
        self.size = size

    def add(self, value: int) -> bool:
        """Remember `value`; False when it was already among the recent ones."""
        if value in self._seen:
            return False
        self._order.append(value)
        self._seen.add(value)
        if len(self._order) > self.size:
            self._seen.discard(self._order.popleft())
        return True


class UpdateProcessor(SimpleUpdateProcessor):
    """PTB's concurrent update processing, dropping repeated update ids and timing the rest.

    Telegram posts a webhook update again when its earlier post got no timely 200, so the same
    update_id may arrive twice; handling it twice would reply (or subscribe) twice. The check
    and the insertion happen with no await in between, so two concurrent posts of one id
    cannot both pass. Each process remembers its own ids: behind a load balancer a retry that
    lands on another worker is not caught (docs/deploy.md).
    """

    def __init__(self, max_concurrent_updates: int, *, remember: int = REMEMBERED_UPDATES):
        super().__init__(max_concurrent_updates)
        self.recent = RecentIds(remember)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers for `update` unless it is a repeat; count and time them."""
        if isinstance(update, Update) and not self.recent.add(update.update_id):
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()  # never awaited, on purpose
            metrics.UPDATES_REPEATED.inc()
            log.info("dropped update %d: a repeat of one already handled", update.update_id)
            return
        started = time.perf_counter()
        try:
            await coroutine
        finally:
            metrics.UPDATES_HANDLED.inc()
            metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
