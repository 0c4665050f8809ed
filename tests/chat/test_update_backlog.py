"""The update queue's bound: a burst beyond what the handlers serve waits at Telegram."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.telegram.updates import UpdateBacklog


async def test_put_waits_while_the_limit_of_updates_is_in_hand() -> None:
    """The third update waits until one of the two in hand was handled (taken is not enough);
    a non-update (PTB's stop signal) never waits."""
    queue = UpdateBacklog(limit=2)
    await queue.put(Update(1))
    await queue.put(Update(2))
    third = asyncio.create_task(queue.put(Update(3)))
    await asyncio.sleep(0.01)
    assert not third.done()
    assert (await queue.get()).update_id == 1  # type: ignore[attr-defined]
    await asyncio.sleep(0.01)
    assert not third.done()
    queue.task_done()
    await asyncio.wait_for(third, 1)
    await asyncio.wait_for(queue.put(object()), 1)  # over the limit, and yet not waiting
    assert queue.in_hand == 3
