"""A local Telegram Bot API for tests, the offline console and benchmarks (loopback only).

    emu = Emulator(token="123:ABC")
    async with emu.running(port=0):
        bot = telegram.Bot("123:ABC", base_url=emu.base_url, base_file_url=emu.base_file_url)
        update_id = emu.send_text(chat_id=42, user_id=42, text="/start")
        ...
        emu.chat_log(42)  # what the bot did there: message / edit / delete / answer events

Modules: `html` (Telegram's HTML parse mode), `state` (users, chats, messages, updates),
`methods` (the Bot API), `inject` (user-side updates), `faults`, `limits`, `server` (aiohttp and
the `/_control/…` JSON API). `python -m bot.emulator --port N --token T [--limits]` runs one.
"""

from bot.emulator.faults import Fault, FaultPlan
from bot.emulator.html import EntityParseError, parse_html_entities, utf16_len
from bot.emulator.limits import RateLimiter, Stats
from bot.emulator.server import Emulator, serve
from bot.emulator.state import ApiError, ChatEvent, Message

__all__ = [
    "ApiError",
    "ChatEvent",
    "Emulator",
    "EntityParseError",
    "Fault",
    "FaultPlan",
    "Message",
    "RateLimiter",
    "Stats",
    "parse_html_entities",
    "serve",
    "utf16_len",
]
