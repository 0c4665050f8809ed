"""The Telegram side of the process: the Bot API HTTP layer, the webhook options, the event loop.

Talks to Telegram only; imports `bot.config` and nothing else of ours.
"""
