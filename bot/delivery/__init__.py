"""Messages out: readiness and dispatch of delivery rows, the sending engine and its rate limits.

Imports `bot.edition`, the pure modules, `bot.telegram` and `storage`; never handlers or content.
"""
