"""Three delivery worker processes share one broadcast; one is SIGKILLed midway."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from bench.broadcast import (
    ROOT,
    TOKEN,
    accounting,
    chat_ids,
    expected_texts,
    outcome,
    seed,
    worker_command,
    worker_name,
)
from bot.emulator import Emulator
from storage.db import create_engine, session_factory
from storage.deliveries import OPEN_STATES, Delivery

# Long enough that a live worker starved of CPU by the rest of the suite still renews in time:
# at 2 s, once under `pytest -n 2`, the journal never caught up with the accepted sends, most
# likely a stalled worker's row reaped after its send was accepted (then resent by design: an
# ambiguous outcome, which this test means not to inject). Short enough that the killed
# worker's rows come back within the test.
LEASE = 5.0


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float) -> None:
    """Re-check a condition that lives in other processes until it holds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)  # the state is in other processes: nothing to await on


async def test_three_workers_one_killed_every_chat_exactly_once(pg_url: str) -> None:
    """3,000 chats over three workers, one SIGKILLed holding claims: each chat gets it once.

    The kill happens while the emulator drops every call unrecorded (so the victim's in-flight
    calls did not deliver: no ambiguous outcome is injected), after everything accepted so far
    is journaled, and while the victim (frozen by SIGSTOP to look) holds claimed rows: those
    come back only when their lease runs out.
    """
    ids = chat_ids(2970, 30)
    await seed(pg_url, ids, parts=1)
    database = create_engine(pg_url)
    sessions = session_factory(database)

    async def scalar(query: object) -> int:
        async with sessions() as session:
            return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]

    emulator = Emulator(token=TOKEN)
    async with emulator.running(port=0):
        command = worker_command(
            pg_url, emulator.base_url, rate=300.0, inflight=32, lease=LEASE, multi=True
        )
        env = {**os.environ, "PYTHONPATH": ROOT}
        workers = [
            await asyncio.create_subprocess_exec(
                *command, env=env, stdout=asyncio.subprocess.DEVNULL
            )
            for _ in range(3)
        ]
        names = [worker_name(process.pid) for process in workers]
        claimers = select(func.count(func.distinct(Delivery.claimed_by))).where(
            Delivery.state.in_(OPEN_STATES), Delivery.claimed_by.in_(names)
        )
        try:
            await emulator.wait_for(lambda: emulator.stats.accepted >= 900, within=30)
            await eventually(lambda: _equals(scalar(claimers), 3), within=10)
            emulator.add_fault("drop", method="sendMessage", count=None)
            sent = select(func.count()).where(Delivery.state == "sent")
            await eventually(lambda: _equals(scalar(sent), emulator.stats.accepted), within=10)
            victim, survivors = workers[0], workers[1:]
            held = select(func.count()).where(
                Delivery.claimed_by == names[0], Delivery.state.in_(OPEN_STATES)
            )
            orphaned = await _freeze_holding(victim, lambda: scalar(held))
            victim.kill()
            await victim.wait()
            emulator.clear_faults()
            codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for p in survivors)), 60)
        finally:
            for process in workers:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        counts = accounting(emulator, expected_texts(ids, 1))
        result = await outcome(pg_url)
        left = await scalar(select(func.count()).where(Delivery.claimed_by.isnot(None)))
    await database.dispose()
    assert codes == [0, 0]
    assert orphaned > 0, "the victim held no claims when killed"
    assert counts == {"lost": 0, "duplicated": 0}
    assert emulator.stats.accepted == len(ids) == 3000
    assert result["rows"]["sent"] == len(ids)
    assert left == 0


async def _equals(value: Awaitable[int], expected: int) -> bool:
    """Whether an awaited count equals `expected`."""
    return await value == expected


async def _freeze_holding(
    process: asyncio.subprocess.Process, claims: Callable[[], Awaitable[int]]
) -> int:
    """SIGSTOP the process at a moment it holds claimed rows; how many it holds."""
    for _ in range(200):
        process.send_signal(signal.SIGSTOP)
        count = await claims()  # frozen: its claims cannot change while we look
        if count:
            return count
        process.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.05)  # let it claim again (rows come due after their backoff)
    return 0
