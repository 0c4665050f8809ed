"""What every handler needs, built once in `main` and stored in `bot_data["services"]`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext

from bot.config import Settings

SERVICES_KEY = "services"


def utc_now() -> dt.datetime:
    """The real clock: tz-aware UTC now."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Services:
    """Settings, the session factory and the clock (tests pass a controllable one)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], dt.datetime] = utc_now


def get_services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    """The `Services` stored in the application's bot_data."""
    services = context.bot_data[SERVICES_KEY]
    if not isinstance(services, Services):
        raise TypeError("bot_data['services'] is not a Services object")
    return services
