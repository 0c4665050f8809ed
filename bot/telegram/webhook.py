"""Webhook mode: where PTB's webhook server listens and which secret Telegram must present."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config import Settings


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """Arguments for `Updater.start_webhook` / `Application.run_webhook`."""

    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str


def webhook_options(settings: Settings, *, listen: str | None = None) -> WebhookOptions | None:
    """The webhook set-up for `settings`, or None when `WEBHOOK_URL` is unset (long polling).

    The server binds `WEBHOOK_LISTEN` (default 0.0.0.0; 127.0.0.1 behind a local proxy) unless
    `listen` overrides it.

    PTB's server answers 403 to any request whose `X-Telegram-Bot-Api-Secret-Token` header
    differs from the secret, so only Telegram (which we tell the secret) can post updates.
    """
    if not settings.webhook_url or settings.webhook_secret is None:
        return None
    return WebhookOptions(
        listen=listen if listen is not None else settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlsplit(settings.webhook_url).path.strip("/"),
        webhook_url=settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
    )
