"""Injected faults as python-telegram-bot sees them, per method and per chat."""

from __future__ import annotations

import pytest
import telegram
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.emulator import Emulator


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after(bot: telegram.Bot, emulator: Emulator) -> None:
    """A 429 fault raises RetryAfter with its retry_after; the next call passes."""
    emulator.add_fault("retry_after", method="sendMessage", retry_after=7)
    with pytest.raises(RetryAfter, match="Retry in 7 seconds"):
        await bot.send_message(1, "x")
    assert (await bot.send_message(1, "x")).text == "x"
    assert emulator.stats.too_many_requests == 1
    assert emulator.texts(1) == ["x"]


async def test_blocked_user(bot: telegram.Bot, emulator: Emulator) -> None:
    """A blocked fault raises Forbidden: bot was blocked by the user."""
    emulator.add_fault("blocked", chat_id=2)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(2, "x")


async def test_migrate(bot: telegram.Bot, emulator: Emulator) -> None:
    """A migrate fault raises ChatMigrated with the new supergroup id."""
    emulator.add_fault("migrate", chat_id=-5, migrate_to_chat_id=-1001234)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-5, "x")
    assert caught.value.new_chat_id == -1001234


async def test_permanent_migration_and_block(bot: telegram.Bot, emulator: Emulator) -> None:
    """A migrated group and a user who blocked the bot keep failing until undone."""
    new_id = emulator.migrate(-6)
    emulator.block(3)
    for _ in range(2):
        with pytest.raises(ChatMigrated):
            await bot.send_message(-6, "x")
        with pytest.raises(Forbidden):
            await bot.send_message(3, "x")
    assert (await bot.send_message(new_id, "x")).chat.type == "supergroup"


async def test_server_error(bot: telegram.Bot, emulator: Emulator) -> None:
    """A 5xx fault raises NetworkError (502 Bad Gateway by default)."""
    emulator.add_fault("server_error", method="sendmessage")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(1, "x")


async def test_delay_records_then_times_out(bot: telegram.Bot, emulator: Emulator) -> None:
    """A delay fault records the message, then answers after the client's timeout."""
    emulator.add_fault("delay", method="sendMessage", seconds=30)
    with pytest.raises(TimedOut):
        await bot.send_message(1, "ambiguous")
    assert emulator.texts(1) == ["ambiguous"]


@pytest.mark.parametrize(("after_record", "recorded"), [(False, []), (True, ["dropped"])])
async def test_dropped_connection(
    bot: telegram.Bot, emulator: Emulator, after_record: bool, recorded: list[str]
) -> None:
    """A drop closes the connection with no answer, before or after recording the message."""
    emulator.add_fault("drop", method="sendMessage", after_record=after_record)
    with pytest.raises(NetworkError):
        await bot.send_message(1, "dropped")
    assert emulator.texts(1) == recorded


async def test_faults_match_method_and_chat_only(bot: telegram.Bot, emulator: Emulator) -> None:
    """A fault for one chat and method leaves other chats and methods alone."""
    emulator.add_fault("blocked", method="sendMessage", chat_id=9, count=None)
    await bot.send_message(8, "fine")
    await bot.get_chat(9)
    for _ in range(3):
        with pytest.raises(Forbidden):
            await bot.send_message(9, "x")


def test_probabilistic_faults_are_reproducible() -> None:
    """The same seed fires the same probabilistic faults."""

    def pattern(seed: int) -> list[bool]:
        emu = Emulator(token="1:a", seed=seed)
        emu.add_fault("server_error", probability=0.5, count=None)
        return [emu.faults.pick("sendmessage", 1) is not None for _ in range(40)]

    assert pattern(3) == pattern(3)
    assert 5 < sum(pattern(3)) < 35


async def test_bad_request_surfaces_as_bad_request(bot: telegram.Bot) -> None:
    """Invalid HTML reaches PTB as BadRequest."""
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.send_message(1, "1 < 2", parse_mode="HTML")
