"""paperboy: the daily Hugging Face papers digest, delivered to Telegram chats.

Wiring at this level (config, services, app, clock, roles, logs); the flow in folders: content →
digest → storage → delivery (edition, render, i18n shared with handlers), cli on top.
"""
