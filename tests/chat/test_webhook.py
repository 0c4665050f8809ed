"""Webhook mode: Telegram's secret header is checked, good updates are handled, others get 403."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.app import build_application
from bot.config import SettingsError, load_settings
from bot.emulator import Emulator
from bot.services import Services
from bot.telegram.webhook import WebhookOptions, webhook_options
from storage.db import create_engine, session_factory
from tests.chat.conftest import TOKEN

SECRET = "s3cret_Token-1"


def _free_port() -> int:
    """A free loopback port for the webhook server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def hook(seeded_database_url: str) -> AsyncIterator[tuple[Emulator, str]]:
    """The real Application serving a webhook on loopback; yields the emulator and hook URL."""
    engine = create_engine(seeded_database_url)
    try:
        async with Emulator(token=TOKEN).running(port=0) as emulator:
            settings = load_settings(
                telegram_bot_token=SecretStr(TOKEN),
                telegram_api_base_url=emulator.base_url,
                database_url=seeded_database_url,
                webhook_url="https://bot.example.org/telegram/hook",
                webhook_secret=SecretStr(SECRET),
                webhook_port=_free_port(),
                _env_file=None,
            )
            options = webhook_options(settings, listen="127.0.0.1")
            assert options is not None
            services = Services(settings, session_factory(engine))
            application = build_application(settings, services=services, rate_limiter=None)
            async with application:
                await application.start()
                assert application.updater is not None
                await application.updater.start_webhook(**_kwargs(options))
                try:
                    yield emulator, f"http://127.0.0.1:{options.port}/{options.url_path}"
                finally:
                    await application.updater.stop()
                    await application.stop()
    finally:
        await engine.dispose()


def _kwargs(options: WebhookOptions) -> dict[str, Any]:
    """start_webhook keyword arguments from the options."""
    return {
        "listen": options.listen,
        "port": options.port,
        "url_path": options.url_path,
        "webhook_url": options.webhook_url,
        "secret_token": options.secret_token,
    }


def _update(update_id: int, text: str) -> dict[str, Any]:
    """A private-chat text message update as Telegram posts it."""
    user = {"id": 501, "is_bot": False, "first_name": "Ada", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": 501, "type": "private", "first_name": "Ada"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def test_webhook_accepts_only_the_secret(hook: tuple[Emulator, str]) -> None:
    """With the right secret the update is answered; a missing or wrong secret gets 403."""
    emulator, url = hook
    assert emulator.state.webhook["url"] == "https://bot.example.org/telegram/hook"
    async with httpx.AsyncClient() as client:
        missing = await client.post(url, json=_update(1, "/help"))
        wrong = await client.post(
            url, json=_update(2, "/help"), headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
        good = await client.post(
            url, json=_update(3, "/help"), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
    assert (missing.status_code, wrong.status_code, good.status_code) == (403, 403, 200)
    await emulator.wait_for_events(501, 1, within=10)
    replies = emulator.texts(501)
    assert len(replies) == 1
    assert "/paper" in replies[0]


def test_webhook_url_requires_a_secret() -> None:
    """WEBHOOK_URL without WEBHOOK_SECRET fails at start with one line naming the secret."""
    with pytest.raises(SettingsError, match="^invalid setting WEBHOOK_SECRET: "):
        load_settings(webhook_url="https://bot.example.org/hook", _env_file=None)


def test_webhook_secret_charset_is_checked() -> None:
    """A secret Telegram would refuse is rejected at start."""
    with pytest.raises(SettingsError, match="^invalid setting WEBHOOK_SECRET: "):
        load_settings(
            webhook_url="https://bot.example.org/hook",
            webhook_secret=SecretStr("has spaces!"),
            _env_file=None,
        )


def test_no_webhook_url_means_long_polling() -> None:
    """Without WEBHOOK_URL there are no webhook options."""
    assert webhook_options(load_settings(_env_file=None)) is None
