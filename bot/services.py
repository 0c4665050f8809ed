"""What every handler needs, built once in `main` and stored in `bot_data["services"]`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext

from bot.config import Settings

SERVICES_KEY = "services"
EXPANDER_KEY = "expander"


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


class Expander(Protocol):
    """English phrases for a Korean query's meaning (bot.content.expansion.QueryExpander)."""

    async def expand(self, query: str) -> Sequence[str]:
        """The phrases (empty when there are none or they cannot be had in time)."""
        ...

    async def known(self, query: str) -> Sequence[str]:
        """The phrases already cached for the query, without asking the model."""
        ...


def get_expander(context: CallbackContext[Any, Any, Any, Any]) -> Expander | None:
    """The application's query expander, when the operator configured an endpoint."""
    expander: Expander | None = context.bot_data.get(EXPANDER_KEY)
    return expander
