"""Webhook mode: Telegram's secret header is checked, good updates are handled, others get 403."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.app import AnyApplication, build_application
from bot.config import SettingsError, load_settings
from bot.emulator import Emulator
from bot.services import Services
from bot.telegram.updates import RecentIds
from bot.telegram.webhook import WebhookOptions, webhook_options
from storage.db import create_engine, session_factory
from tests.chat.conftest import TOKEN

SECRET = "s3cret_Token-1"


def _free_port() -> int:
    """A free loopback port for the webhook server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Hook:
    """A running webhook: the emulator, the URL Telegram would post to, the Application."""

    emulator: Emulator
    url: str
    application: AnyApplication

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as (emulator, url)."""
        return iter((self.emulator, self.url))


@pytest.fixture
async def hook(seeded_database_url: str) -> AsyncIterator[Hook]:
    """The real Application serving a webhook on loopback (WEBHOOK_LISTEN=127.0.0.1)."""
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
                webhook_listen="127.0.0.1",
                _env_file=None,
            )
            options = webhook_options(settings)
            assert options is not None
            assert options.listen == "127.0.0.1"
            services = Services(settings, session_factory(engine))
            application = build_application(settings, services=services, rate_limiter=None)
            async with application:
                await application.start()
                assert application.updater is not None
                await application.updater.start_webhook(**_kwargs(options))
                try:
                    url = f"http://127.0.0.1:{options.port}/{options.url_path}"
                    yield Hook(emulator, url, application)
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


async def test_webhook_accepts_only_the_secret(hook: Hook) -> None:
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


async def test_a_repeated_update_is_handled_once(hook: Hook) -> None:
    """Telegram retries a webhook post: the same update_id posted twice gets one reply."""
    emulator, url = hook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient() as client:
        first = await client.post(url, json=_update(7, "/help"), headers=headers)
        again = await client.post(url, json=_update(7, "/help"), headers=headers)
        other = await client.post(url, json=_update(8, "/help"), headers=headers)
    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 200)
    # Both posts were queued before they were answered: once the queue is empty, all ran.
    await asyncio.wait_for(hook.application.update_queue.join(), timeout=10)
    assert len(emulator.texts(501)) == 2  # update 7 once, update 8 once


def test_webhook_listen_is_the_setting_unless_overridden() -> None:
    """WEBHOOK_LISTEN decides where the server binds (0.0.0.0 by default)."""
    common: dict[str, Any] = {
        "webhook_url": "https://bot.example.org/hook",
        "webhook_secret": SecretStr(SECRET),
        "_env_file": None,
    }
    default = webhook_options(load_settings(**common))
    local = webhook_options(load_settings(webhook_listen="127.0.0.1", **common))
    assert default is not None
    assert default.listen == "0.0.0.0"
    assert local is not None
    assert local.listen == "127.0.0.1"


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


def test_recent_ids_are_bounded() -> None:
    """The repeat filter remembers the last N ids only, forgetting the oldest first."""
    recent = RecentIds(size=3)
    assert [recent.add(i) for i in (1, 2, 3, 1)] == [True, True, True, False]
    assert recent.add(4)  # forgets 1
    assert recent.add(1)
    assert not recent.add(4)
