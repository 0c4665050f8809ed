"""The one `Settings` object: environment variables, also read from `.env`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/paperboy.sqlite3"
LIVE_MARKDOWN_TEMPLATE = (
    "https://raw.githubusercontent.com/l-yohai/daily_papers_ko/main/paper_logs/{date:%Y/%m/%d}.md"
)
LIVE_HF_JSON_TEMPLATE = "https://huggingface.co/api/daily_papers?date={date:%Y-%m-%d}"
HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


class SettingsError(Exception):
    """An invalid setting; the message is one line naming it."""


class Settings(BaseSettings):
    """Everything configurable about paperboy (see `.env.example`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = DEFAULT_DATABASE_URL
    digest_sources: Annotated[tuple[str, ...], NoDecode] = ()
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_timezone: str = "Asia/Seoul"
    default_delivery_time: dt.time = dt.time(9, 0)
    default_language: Literal["ko", "en"] = "ko"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_listen: str = "0.0.0.0"
    # /healthz and /metrics on 127.0.0.1:METRICS_PORT (unset = no such server).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Readiness: a day is complete once unchanged for DIGEST_SETTLE minutes; sources are polled
    # every DIGEST_POLL_INTERVAL minutes.
    digest_settle: float = Field(default=30.0, gt=0, le=24 * 60)
    digest_poll_interval: float = Field(default=5.0, gt=0, le=24 * 60)
    # The optional summarizer: any OpenAI-compatible chat-completions endpoint (empty = off).
    summary_api_base_url: str | None = None
    summary_api_key: SecretStr | None = None
    summary_model: str = "gpt-4o-mini"
    summary_concurrency: int = Field(default=4, ge=1, le=64)
    summary_max_per_day: int = Field(default=100, ge=0, le=100_000)
    # /search asks that endpoint for English phrases of a Korean query's meaning (cached per
    # query: bot.content.expansion), waiting at most SEARCH_EXPANSION_TIMEOUT seconds.
    search_expansion: bool = True
    search_expansion_timeout: float = Field(default=5.0, gt=0, le=60)
    # Each new paper gets search keywords (English and Korean) from that endpoint's model, once
    # (bot.content.keywords); `paperboy keywords` writes them for papers already archived.
    search_keywords: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("digest_sources", mode="before")
    @classmethod
    def _split_sources(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("digest_sources")
    @classmethod
    def _valid_templates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A URL template is filled with the day on every poll: a typo there would only show
        # as a failed poll, every minute, long after start-up.
        for number, source in enumerate(value, start=1):
            if "{" not in source and "}" not in source:
                continue
            try:
                source.format(date=dt.date(2024, 1, 3))
            except (KeyError, IndexError, ValueError, AttributeError) as exc:
                raise ValueError(
                    f"source {number} is not a valid template ({type(exc).__name__}: {exc}); "
                    "use {date:%Y/%m/%d}-style placeholders"
                ) from None
        return value

    @field_validator("default_delivery_time")
    @classmethod
    def _plain_time(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None or value.second or value.microsecond:
            raise ValueError("use HH:MM (the time zone is DEFAULT_TIMEZONE)")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("summary_api_base_url", "metrics_port", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_listen")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not HOST_NAME.fullmatch(value):
                raise ValueError(
                    "must be an IP address or a host name (e.g. 0.0.0.0, 127.0.0.1, ::)"
                ) from None
        return value

    @field_validator("telegram_api_base_url", "webhook_url", "summary_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for X-Telegram-Bot-Api-Secret-Token.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        try:
            port = make_url(value).port
        except (ValueError, ArgumentError):
            port = -1
        if port is not None and not 0 < port < 65536:
            raise ValueError("is not a valid database URL (check the host and port)")
        return value


def load_settings(**overrides: object) -> Settings:
    """Build `Settings`, turning a validation error into one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError:
        raise SettingsError("cannot read .env: it is not UTF-8 text") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "WEBHOOK_SECRET"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {name}: {message}") from None
