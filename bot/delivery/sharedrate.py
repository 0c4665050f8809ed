"""The overall Telegram rate held across every delivery worker, through the database.

Each worker books send slots in `storage.sendrate` (one atomic upsert per batch) and starts a
call only at one of its slots. Slots are `interval = (1 + tolerance) / rate` apart cluster-wide,
and a slot that comes up more than `late` seconds late (a busy event loop) is thrown away, not
used late. So every call starts within `late` of a slot, and any one-second window holds the
starts of at most `rate` slots as long as `late` plus the call's transit jitter stays under
`tolerance` seconds; with the defaults 30/s is paced at 28.6/s and 30 ms of jitter is allowed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.sendrate import book_slots

DEFAULT_TOLERANCE = 0.05
DEFAULT_LATE = 0.02


class SharedRate:
    """A `SendGate` for `bot.delivery.DeliveryEngine` that paces calls cluster-wide."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        rate: float,
        name: str = "telegram",
        tolerance: float = DEFAULT_TOLERANCE,
        late: float = DEFAULT_LATE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.name = name
        self.interval = (1.0 + tolerance) / rate
        self.late = late
        # A batch covers ~20 ms of the cluster's rate: one slot at 30/s, 20 at 1,000/s.
        self.batch = max(1, int(rate * 0.02))
        self.monotonic = monotonic
        self.wasted = 0
        self.bookings = 0
        self._slots: deque[float] = deque()
        self._offsets: deque[float] = deque(maxlen=64)
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Wait for this worker's next slot and return it; skip slots already missed by more
        than `late`."""
        while True:
            moment = await self._next_slot()
            delay = moment - self.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.missed(moment):
                return moment

    def missed(self, slot: float) -> bool:
        """Whether a call may no longer start at `slot` (more than `late` ago): the caller
        did something slow after `acquire` (committed its journal entry) and needs another."""
        if self.monotonic() - slot <= self.late:
            return False
        self.wasted += 1
        return True

    async def _next_slot(self) -> float:
        """The next unused slot still worth waiting for, booking a batch when none is left."""
        async with self._lock:
            cutoff = self.monotonic() - self.late
            while self._slots and self._slots[0] < cutoff:
                self._slots.popleft()
                self.wasted += 1
            if not self._slots:
                await self._book()
            return self._slots.popleft()

    async def _book(self) -> None:
        """Book a batch and map its server-clock moments onto this process's monotonic clock."""
        async with self.sessions.begin() as session:
            booking = await book_slots(
                session, name=self.name, count=self.batch, interval=self.interval
            )
        self.bookings += 1
        # Server time maps onto ours by the offset seen at arrival; a slow answer inflates it
        # (its slots would land late, bunched with other workers'), so the smallest offset of
        # recent bookings is the truest one.
        self._offsets.append(self.monotonic() - booking.server_now)
        first = booking.start + min(self._offsets)
        self._slots.extend(first + i * booking.interval for i in range(booking.count))
