"""How updates reach the handlers: at most N at once, repeats dropped, each counted and timed."""

from __future__ import annotations

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
