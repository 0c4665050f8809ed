"""Fixtures for the emulator tests: a running emulator, a PTB Bot against it, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import telegram
from telegram.request import HTTPXRequest

from bot.emulator import Emulator

TOKEN = "123456:test-token"


class ManualClock:
    """A clock tests move by hand, so rate limits are checked without sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock starting at t=1000."""
    return ManualClock()


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[Emulator]:
    """An emulator on an ephemeral loopback port, limits off, driven by the manual clock."""
    emu = Emulator(token=TOKEN, clock=clock, seed=1)
    async with emu.running(port=0):
        yield emu


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[telegram.Bot]:
    """python-telegram-bot's Bot, unchanged, pointed at the emulator (short read timeout)."""
    request = HTTPXRequest(read_timeout=0.3, connect_timeout=2.0)
    ptb = telegram.Bot(
        TOKEN,
        base_url=emulator.base_url,
        base_file_url=emulator.base_file_url,
        request=request,
    )
    async with ptb:
        yield ptb


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client on the emulator's root URL."""
    async with httpx.AsyncClient(base_url=emulator.url, timeout=5.0) as client:
        yield client
