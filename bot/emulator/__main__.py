"""`python -m bot.emulator --port N --token T [--limits]`: run the emulator on its own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os

from bot.emulator.server import serve

DEFAULT_TOKEN = "123456789:emulator-token"


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument(
        "--token",
        default=os.environ.get("TELEGRAM_BOT_TOKEN") or DEFAULT_TOKEN,
        help="the bot token accepted (default: $TELEGRAM_BOT_TOKEN or a fixed test token)",
    )
    parser.add_argument("--limits", action="store_true", help="enforce Telegram-like flood limits")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host=args.host, port=args.port, token=args.token, limits=args.limits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
