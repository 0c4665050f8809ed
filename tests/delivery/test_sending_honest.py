"""`sending` means "the call may have left": rows waiting for a rate limit stay `pending`."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from bot.delivery.engine import DeliveryEngine, SendGate, build_delivery_bot
from bot.delivery.ratelimit import Limits, RateScheduler
from storage.deliveries import ambiguous_total, counts_by_state
from tests.delivery.conftest import TOKEN, Outbox, utc_now

CHATS = 30
LET_THROUGH = 3


class Turnstile:
    """A shared gate that grants `n` calls a slot, then keeps every other caller waiting."""

    def __init__(self, n: int) -> None:
        self.left = n

    async def acquire(self) -> float:
        """A slot now while any are left, else never."""
        if self.left <= 0:
            await asyncio.Event().wait()
        self.left -= 1
        return time.monotonic()

    def missed(self, slot: float) -> bool:
        """Slots never expire here."""
        return False


# The window holds the 4th call for 100 s: every later row has its slot and waits on the window.
SLOW_WINDOW = Limits(
    global_rate=float(LET_THROUGH), chat_interval=0.0, group_count=0, window_margin=100.0
)


@pytest.mark.parametrize("limiter", ["window", "gate"])
async def test_only_calls_in_flight_are_sending_and_ambiguous(outbox: Outbox, limiter: str) -> None:
    """With 3 calls held by Telegram and 27 rows held by the limiter, 3 rows are `sending`,
    and a crash then counts exactly those 3 as ambiguous (and repeats at most those)."""
    for chat_id in range(1, CHATS + 1):
        await outbox.queue(chat_id, [f"digest for {chat_id}"])
    emulator = outbox.emulator
    emulator.add_fault("delay", method="sendMessage", count=None, seconds=60.0)
    gate: SendGate | None = Turnstile(LET_THROUGH) if limiter == "gate" else None
    limits = SLOW_WINDOW if limiter == "window" else Limits.unlimited()
    async with build_delivery_bot(TOKEN, base_url=emulator.base_url, read_timeout=90.0) as bot:
        engine = DeliveryEngine(
            bot=bot,
            sessions=outbox.sessions,
            scheduler=RateScheduler(limits, time.monotonic),
            clock=utc_now,
            gate=gate,
            max_inflight=CHATS,
        )
        task = asyncio.create_task(engine.run())
        await emulator.wait_for(lambda: emulator.stats.accepted >= LET_THROUGH, within=10.0)
        await asyncio.sleep(1.5)  # several more slots come due (window) or wait (gate)
        async with outbox.sessions() as session:
            counts = await counts_by_state(session)
        held = emulator.stats.accepted
        task.cancel()  # the crash: the held calls never answer
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert held == LET_THROUGH
    assert counts["sending"] == held
    assert counts["pending"] == CHATS - held

    emulator.clear_faults()
    restarted = outbox.engine()
    assert await restarted.recover() == (LET_THROUGH, 0)
    await restarted.drain()
    async with outbox.sessions() as session:
        assert (await counts_by_state(session))["sent"] == CHATS
        ambiguous = await ambiguous_total(session)
    repeats = sum(max(0, len(emulator.texts(chat)) - 1) for chat in range(1, CHATS + 1))
    assert ambiguous == LET_THROUGH
    assert repeats <= ambiguous
