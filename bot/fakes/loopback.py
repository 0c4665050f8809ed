"""The aiohttp server every loopback fake runs on: listen on a loopback address, serve, stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

from aiohttp import web

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class LoopbackServer:
    """Serves `app()` on loopback only; subclasses provide the application."""

    host: str = "127.0.0.1"
    port: int = 0
    _runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The aiohttp application to serve."""
        raise NotImplementedError

    async def start(self, *, port: int = 0, host: str = "127.0.0.1") -> None:
        """Listen on loopback only (`port` 0 picks a free port)."""
        if host not in LOOPBACK:
            raise ValueError(f"a fake listens on loopback only, not {host!r}")
        self._runner = web.AppRunner(self.app(), handler_cancellation=True, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @asynccontextmanager
    async def running(self, *, port: int = 0, host: str = "127.0.0.1") -> AsyncIterator[Self]:
        """`async with fake.running() as fake:` serves for the block's duration."""
        await self.start(port=port, host=host)
        try:
            yield self
        finally:
            await self.stop()
