"""Cluster-wide leadership: exactly one process runs the scheduled jobs (polls and dispatch).

Choice: a PostgreSQL session-level advisory lock, `pg_try_advisory_lock(key)`, held on a
dedicated autocommit connection. PostgreSQL itself arbitrates: one session holds the lock,
and it is released the moment that session ends (process killed, host gone, connection cut,
once the server notices the dead TCP connection), with no lease to tune and no clock to trust.
A leader row with a lease would need periodic writes and a lease long enough to ride out
pauses; the lock needs neither. The price is one idle connection per contender.

A contender calls `try_acquire()` every few seconds; the leader calls `still_held()` as often,
which fails as soon as its connection is gone (the lock went with it), and then stops leading.
Between the loss and that check a job may start on both; the jobs are idempotent in the
database (unique outbox keys), so such an overlap wastes work but sends nothing twice.

On SQLite there is one process by construction (other roles are refused), so it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
SCHEDULER_LOCK = 0x70617065_72626F79 & 0x7FFF_FFFF_FFFF_FFFF  # "paperboy" as a bigint key


class LeaderLock:
    """One contender for the advisory lock `key` (always the leader on SQLite)."""

    def __init__(self, engine: AsyncEngine, *, key: int = SCHEDULER_LOCK) -> None:
        self.engine = engine
        self.key = key
        self._connection: AsyncConnection | None = None
        self._held = False

    @property
    def shared(self) -> bool:
        """Whether other processes can contend (PostgreSQL); SQLite has a single process."""
        return self.engine.dialect.name == "postgresql"

    @property
    def held(self) -> bool:
        """Whether this contender led at its last check."""
        return self._held

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this contender now leads (or already did)."""
        if not self.shared:
            self._held = True
            return True
        if self._held:
            return await self.still_held()
        try:
            if self._connection is None:
                connection = await self.engine.connect()
                self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            query = text("SELECT pg_try_advisory_lock(:key)")
            self._held = bool((await self._connection.execute(query, {"key": self.key})).scalar())
        except (OSError, SQLAlchemyError) as exc:
            log.warning("leader lock: cannot contend (%s)", type(exc).__name__)
            await self._drop()
        return self._held

    async def still_held(self) -> bool:
        """Check that the session holding the lock is alive; a dead one lost the lock."""
        if not self.shared:
            return True
        if not self._held or self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError) as exc:
            log.warning("leader lock lost: connection failed (%s)", type(exc).__name__)
            await self._drop()
        return self._held

    async def release(self) -> None:
        """Give the lock up (a clean shutdown hands leadership over at once)."""
        if self._connection is not None and self._held:
            with contextlib.suppress(OSError, SQLAlchemyError):
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                )
        await self._drop()
        if not self.shared:
            self._held = False

    async def _drop(self) -> None:
        """Forget the connection (closing it ends the session and any lock it held)."""
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            with contextlib.suppress(OSError, SQLAlchemyError, DBAPIError):
                await connection.close()


async def keep_leading(
    lock: LeaderLock,
    *,
    stop: asyncio.Event,
    interval: float = 5.0,
    on_change: Callable[[bool], Awaitable[None]] | None = None,
) -> None:
    """Contend (or confirm leadership) every `interval` s until `stop`; report each change."""
    leading = False
    try:
        while not stop.is_set():
            now_leading = await lock.try_acquire()
            if now_leading != leading:
                leading = now_leading
                log.info("scheduler leadership %s", "gained" if leading else "lost")
                if on_change is not None:
                    await on_change(leading)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        await lock.release()
