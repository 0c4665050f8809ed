"""The python-telegram-bot Application: settings in, every handler module's HANDLERS registered."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import ModuleType
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseHandler,
    BaseRateLimiter,
    Defaults,
    TypeHandler,
)

import handlers
from bot.config import Settings
from bot.content.expansion import QueryExpander
from bot.i18n import LANGUAGES, translate
from bot.services import EXPANDER_KEY, SERVICES_KEY, Services
from bot.telegram.application import BotApplication
from bot.telegram.request import AiohttpRequest
from bot.telegram.updates import UpdateBacklog, UpdateProcessor
from handlers.common import CommandRateLimit
from handlers.errors import on_error
from handlers.start import FALLBACK
from storage.db import serving_engine, session_factory

log = logging.getLogger(__name__)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
HandlerEntry = BaseHandler[Any, Any, Any] | tuple[BaseHandler[Any, Any, Any], int]
StartupHook = Callable[[AnyApplication], Awaitable[None]]
RATE_LIMIT_GROUP = -100  # before every command handler; the console's marker (-1000) sees all
COMMANDS = (
    "start",
    "help",
    "today",
    "digest",
    "paper",
    "author",
    "search",
    "saved",
    "bibtex",
    "foryou",
    "week",
    "month",
    "trends",
    "poll",
    "subscribe",
    "unsubscribe",
    "settings",
    "status",
)
CONCURRENT_UPDATES = 16  # replies wait on the network; handlers are short and share no state


class MissingToken(ValueError):
    """`paperboy run` needs TELEGRAM_BOT_TOKEN."""


def file_base_url(base_url: str) -> str:
    """The file download base for an API base: `…/bot` becomes `…/file/bot`."""
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"


def handler_modules() -> list[ModuleType]:
    """Every `handlers.*` module, sorted by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(handlers.__path__))
    return [importlib.import_module(f"handlers.{name}") for name in names]


def collect_handlers() -> list[tuple[BaseHandler[Any, Any, Any], int]]:
    """(handler, group) of every module's HANDLERS, in module order."""
    found: list[tuple[BaseHandler[Any, Any, Any], int]] = []
    for module in handler_modules():
        for entry in getattr(module, "HANDLERS", ()):
            found.append(entry if isinstance(entry, tuple) else (entry, 0))
    return found


def bot_commands(lang: str) -> list[BotCommand]:
    """The command menu in one language."""
    return [BotCommand(name, translate(lang, f"common.cmd_{name}")) for name in COMMANDS]


async def register_commands(application: AnyApplication, default_language: str) -> None:
    """setMyCommands for Korean, English and everyone else (the default language)."""
    bot = application.bot
    await bot.set_my_commands(bot_commands(default_language), scope=BotCommandScopeDefault())
    for lang in LANGUAGES:
        await bot.set_my_commands(bot_commands(lang), language_code=lang)


def default_rate_limiter() -> BaseRateLimiter[Any]:
    """20 messages a minute per group, retrying RetryAfter 3 times.

    No overall 30/s cap: that limit is for broadcasts, which the delivery engine paces itself
    (bot.delivery.ratelimit); replies to people using the bot in private chats must not queue
    behind it.
    """
    return AIORateLimiter(overall_max_rate=0, max_retries=3)


def build_application(
    settings: Settings,
    *,
    services: Services | None = None,
    extra_handlers: Iterable[HandlerEntry] = (),
    on_startup: Sequence[StartupHook] = (),
    command_rate: CommandRateLimit | None = None,
    rate_limiter: Callable[[], BaseRateLimiter[Any]] | None = default_rate_limiter,
    concurrent_updates: int = CONCURRENT_UPDATES,
) -> AnyApplication:
    """The Application: handlers, error handler, command rate limit, commands set at start-up.

    `on_startup` hooks run after the command list is set (the delivery issue adds its jobs
    there); `command_rate` defaults to 20 commands per 10 s per user; `rate_limiter=None`
    turns off the outgoing flood limiter (benchmarks against the emulator).
    """
    if settings.telegram_bot_token is None:
        raise MissingToken("TELEGRAM_BOT_TOKEN is not set")
    engine = None
    if services is None:
        engine = serving_engine(settings.database_url)
        services = Services(settings, session_factory(engine))

    async def post_init(application: AnyApplication) -> None:
        await register_commands(application, settings.default_language)
        for hook in on_startup:
            await hook(application)

    expander = QueryExpander.from_settings(settings, services.sessions)

    async def post_shutdown(_application: AnyApplication) -> None:
        if expander is not None:
            await expander.aclose()
        if engine is not None:
            await engine.dispose()

    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)  # per-chat state kept for recent chats only
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .request(AiohttpRequest())  # far less CPU per request than httpx: bot/telegram/request.py
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .concurrent_updates(UpdateProcessor(concurrent_updates))  # repeats dropped, timed
        .update_queue(UpdateBacklog())  # a burst waits at Telegram, not in our memory
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter())
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    if expander is not None:
        application.bot_data[EXPANDER_KEY] = expander
    limit = command_rate if command_rate is not None else CommandRateLimit()
    application.add_handler(TypeHandler(Update, limit.check), group=RATE_LIMIT_GROUP)
    for handler, group in collect_handlers():
        application.add_handler(handler, group=group)
    application.add_handler(FALLBACK, group=0)
    for entry in extra_handlers:
        handler, group = entry if isinstance(entry, tuple) else (entry, 0)
        application.add_handler(handler, group=group)
    application.add_error_handler(on_error)
    return application
