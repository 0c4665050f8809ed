"""The delivery engine against the emulator over real HTTP: order, every fault, recovery."""

from __future__ import annotations

from storage.chats import get_chat
from storage.deliveries import RowChange, apply_changes, chat_deliveries, get_delivery
from tests.delivery.conftest import DAY, Outbox


async def _row(outbox: Outbox, row_id: int) -> object:
    """The row as stored now."""
    async with outbox.sessions() as session:
        row = await get_delivery(session, delivery_id=row_id)
    assert row is not None
    return row


async def test_multi_message_digest_keeps_order(outbox: Outbox) -> None:
    """A three-message digest arrives in order and the row records every message id."""
    await outbox.subscribe(11, 12)
    first = await outbox.queue(11, ["<b>one</b>", "two", "three"])
    await outbox.queue(12, ["solo"])
    await outbox.queue(11, ["late addition"], kind="update", seq=1)
    stats = await outbox.engine().drain()
    assert outbox.emulator.texts(11) == ["one", "two", "three", "late addition"]
    assert outbox.emulator.texts(12) == ["solo"]
    row = await _row(outbox, first)
    assert row.state == "sent"  # type: ignore[attr-defined]
    assert len(row.message_ids) == 3  # type: ignore[attr-defined]
    assert stats.messages == 5


async def test_retry_after_pauses_only_that_chat(outbox: Outbox) -> None:
    """A 429 for one chat delays that chat's message; the other chat is not held back."""
    await outbox.subscribe(21, 22)
    outbox.emulator.add_fault("retry_after", chat_id=21, retry_after=1)
    slow = await outbox.queue(21, ["a"])
    await outbox.queue(22, ["b"])
    stats = await outbox.engine().drain()
    assert outbox.emulator.texts(21) == ["a"]
    assert outbox.emulator.texts(22) == ["b"]
    assert stats.retry_after == 1
    row = await _row(outbox, slow)
    assert (row.state, row.attempts) == ("sent", 0)  # type: ignore[attr-defined]


async def test_forbidden_deactivates_chat_and_skips(outbox: Outbox) -> None:
    """A user who blocked the bot gets nothing; the chat is deactivated and its rows skipped."""
    await outbox.subscribe(31)
    outbox.emulator.block(31)
    digest = await outbox.queue(31, ["x", "y"])
    update = await outbox.queue(31, ["z"], kind="update", seq=1)
    await outbox.engine().drain()
    assert outbox.emulator.texts(31) == []
    assert (await _row(outbox, digest)).state == "skipped"  # type: ignore[attr-defined]
    assert (await _row(outbox, update)).state == "skipped"  # type: ignore[attr-defined]
    async with outbox.sessions() as session:
        chat = await get_chat(session, chat_id=31)
    assert chat is not None
    assert chat.active is False


async def test_chat_migrated_moves_subscription_and_resends(outbox: Outbox) -> None:
    """A group upgraded to a supergroup gets the digest at its new id, and so does the next."""
    await outbox.subscribe(-41)
    new_id = outbox.emulator.migrate(-41, -100041)
    row_id = await outbox.queue(-41, ["first", "second"])
    await outbox.engine().drain()
    assert outbox.emulator.texts(new_id) == ["first", "second"]
    row = await _row(outbox, row_id)
    assert (row.state, row.chat_id) == ("sent", new_id)  # type: ignore[attr-defined]
    async with outbox.sessions() as session:
        new_chat = await get_chat(session, chat_id=new_id)
    assert new_chat is not None
    assert new_chat.subscribed


async def test_server_errors_retry_then_succeed(outbox: Outbox) -> None:
    """Two 502s are retried with backoff and the message then goes out once."""
    await outbox.subscribe(51)
    outbox.emulator.add_fault("server_error", chat_id=51, count=2)
    row_id = await outbox.queue(51, ["hello"])
    stats = await outbox.engine().drain()
    assert outbox.emulator.texts(51) == ["hello"]
    row = await _row(outbox, row_id)
    assert (row.state, row.attempts) == ("sent", 2)  # type: ignore[attr-defined]
    assert stats.retries == 2


async def test_persistent_errors_fail_with_reason(outbox: Outbox) -> None:
    """A chat whose sends always fail with 500 ends `failed` with the reason after the limit."""
    await outbox.subscribe(52)
    outbox.emulator.add_fault("server_error", chat_id=52, count=None, status=500)
    row_id = await outbox.queue(52, ["never"])
    await outbox.engine().drain()
    row = await _row(outbox, row_id)
    assert row.state == "failed"  # type: ignore[attr-defined]
    assert "Internal Server Error" in row.last_error  # type: ignore[attr-defined]
    assert "after 3 attempts" in row.last_error  # type: ignore[attr-defined]


async def test_dropped_connection_before_delivery_is_retried(outbox: Outbox) -> None:
    """A connection closed before the call was recorded is retried and delivered once."""
    await outbox.subscribe(61)
    outbox.emulator.add_fault("drop", chat_id=61)
    row_id = await outbox.queue(61, ["once"])
    await outbox.engine().drain()
    assert outbox.emulator.texts(61) == ["once"]
    assert (await _row(outbox, row_id)).state == "sent"  # type: ignore[attr-defined]


async def test_dropped_connection_after_delivery_is_ambiguous(outbox: Outbox) -> None:
    """A connection closed after Telegram recorded the message: the resend is a duplicate,
    so it must be counted ambiguous (duplicates never exceed the ambiguous count)."""
    await outbox.subscribe(66)
    outbox.emulator.add_fault("drop", chat_id=66, after_record=True)
    row_id = await outbox.queue(66, ["twice"])
    stats = await outbox.engine().drain()
    row = await _row(outbox, row_id)
    assert (row.state, row.ambiguous) == ("sent", 1)  # type: ignore[attr-defined]
    assert stats.ambiguous == 1
    assert outbox.emulator.stats.duplicates() == [(66, "twice", 2)]


async def test_timeout_after_delivery_is_ambiguous_and_resent(outbox: Outbox) -> None:
    """A reply that never comes (the message did arrive) is counted ambiguous and resent once."""
    await outbox.subscribe(71)
    outbox.emulator.add_fault("delay", chat_id=71, seconds=2.0)
    row_id = await outbox.queue(71, ["maybe"])
    stats = await outbox.engine().drain()
    row = await _row(outbox, row_id)
    assert (row.state, row.ambiguous) == ("sent", 1)  # type: ignore[attr-defined]
    assert stats.ambiguous == 1
    duplicates = outbox.emulator.stats.duplicates()
    assert duplicates == [(71, "maybe", 2)]
    assert sum(n - 1 for _, _, n in duplicates) <= row.ambiguous  # type: ignore[attr-defined]


async def test_bad_request_fails_and_is_not_retried(outbox: Outbox) -> None:
    """Malformed HTML is a bug: the row fails at once with Telegram's reason."""
    await outbox.subscribe(81)
    row_id = await outbox.queue(81, ["<b>unclosed"])
    await outbox.engine().drain()
    row = await _row(outbox, row_id)
    assert (row.state, row.attempts) == ("failed", 0)  # type: ignore[attr-defined]
    assert "BadRequest" in row.last_error  # type: ignore[attr-defined]


async def test_restart_resumes_mid_digest(outbox: Outbox) -> None:
    """A row left `sending` at message 2 by a crash resends from message 2, counted ambiguous."""
    await outbox.subscribe(91)
    row_id = await outbox.queue(91, ["m1", "m2", "m3"])
    sent = await outbox.bot.send_message(91, "m1")
    async with outbox.sessions.begin() as session:
        change = {"state": "sending", "message_ids": [sent.message_id], "claimed_by": "dead"}
        await apply_changes(session, changes=[RowChange(row_id, change)])
    engine = outbox.engine()
    assert await engine.recover() == (1, 0)
    await engine.drain()
    assert outbox.emulator.texts(91) == ["m1", "m2", "m3"]
    async with outbox.sessions() as session:
        [row] = await chat_deliveries(session, chat_id=91, digest_date=DAY)
    assert (row.state, row.ambiguous, len(row.message_ids)) == ("sent", 1, 3)
