"""Settings: defaults, parsing of list values, and one-line errors naming the setting."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import DEFAULT_DATABASE_URL, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Isolate every test from the developer's environment and .env file."""
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "DATABASE_URL",
        "DIGEST_SOURCES",
        "ADMIN_IDS",
        "DEFAULT_TIMEZONE",
        "DEFAULT_DELIVERY_TIME",
        "DEFAULT_LANGUAGE",
        "LOG_LEVEL",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEBHOOK_PORT",
        "WEBHOOK_LISTEN",
        "METRICS_PORT",
        "LOG_FORMAT",
        "TELEGRAM_API_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]


def test_defaults_match_the_design() -> None:
    """With nothing set, the documented defaults apply."""
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.default_timezone == "Asia/Seoul"
    assert settings.default_delivery_time == dt.time(9, 0)
    assert settings.default_language == "ko"
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_bot_token is None
    assert settings.webhook_listen == "0.0.0.0"
    assert settings.metrics_port is None
    assert settings.log_format == "text"


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        ("WEBHOOK_LISTEN", "127.0.0.1", "webhook_listen", "127.0.0.1"),
        ("WEBHOOK_LISTEN", "::1", "webhook_listen", "::1"),
        ("WEBHOOK_LISTEN", "bot-host.internal", "webhook_listen", "bot-host.internal"),
        ("METRICS_PORT", "9108", "metrics_port", 9108),
        ("METRICS_PORT", "", "metrics_port", None),
        ("LOG_FORMAT", "JSON", "log_format", "json"),
    ],
)
def test_operations_settings_are_read(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str, expected: object
) -> None:
    """WEBHOOK_LISTEN, METRICS_PORT (empty = off) and LOG_FORMAT come from the environment."""
    monkeypatch.setenv(name, value)
    assert getattr(load_settings(), field) == expected


def test_comma_separated_lists_are_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """ADMIN_IDS and DIGEST_SOURCES accept comma-separated values."""
    monkeypatch.setenv("ADMIN_IDS", "1, 22,333")
    monkeypatch.setenv("DIGEST_SOURCES", "/data/digests, https://x.test/{date:%Y}.md")
    settings = load_settings()
    assert settings.admin_ids == frozenset({1, 22, 333})
    assert settings.digest_sources == ("/data/digests", "https://x.test/{date:%Y}.md")


def test_dotenv_file_is_read(tmp_path: object) -> None:
    """Values in ./.env are used when the environment does not set them."""
    from pathlib import Path

    Path(str(tmp_path), ".env").write_text("DEFAULT_LANGUAGE=en\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.default_language == "en"
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_DELIVERY_TIME", "25:99"),
        ("DEFAULT_LANGUAGE", "fr"),
        ("ADMIN_IDS", "1,abc"),
        ("WEBHOOK_PORT", "70000"),
        ("DATABASE_URL", "mysql://localhost/x"),
        ("TELEGRAM_API_BASE_URL", "ftp://example"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
        ("WEBHOOK_LISTEN", "0.0.0.0:8443"),
        ("WEBHOOK_LISTEN", "http://0.0.0.0"),
        ("METRICS_PORT", "70000"),
        ("METRICS_PORT", "metrics"),
        # Values that would otherwise fail only later: at every poll, or at the first connection.
        ("DIGEST_SOURCES", "http://h/{day:%Y}/x.md"),
        ("DIGEST_SOURCES", "./digests,http://h/{date:%Y/%m/%d.md"),
        ("DEFAULT_DELIVERY_TIME", "09:00+05:00"),
        ("DEFAULT_DELIVERY_TIME", "09:00:30"),
        ("DATABASE_URL", "postgresql+asyncpg://u:pw@host:notaport/db"),
        ("DATABASE_URL", "postgresql+asyncpg://u:pw@host:99999/db"),
    ],
)
def test_invalid_value_fails_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Each invalid setting raises SettingsError whose single line names the setting."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"invalid setting {name}:")
    assert "pw" not in message


def test_token_is_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot token never shows in the settings' repr."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-token")
    settings = load_settings()
    assert "SECRET" not in repr(settings)
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123456:SECRET-token"


def test_a_good_template_and_a_folder_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SOURCES", "./digests,https://h/{date:%Y/%m/%d}.md")
    assert len(load_settings().digest_sources) == 2


def test_dotenv_that_is_not_utf8_is_one_line(tmp_path: object) -> None:
    from pathlib import Path

    Path(str(tmp_path), ".env").write_bytes("# 설정\nLOG_LEVEL=debug\n".encode("cp949"))
    with pytest.raises(SettingsError, match=r"^cannot read \.env: it is not UTF-8 text$"):
        load_settings()


def test_libpq_sslmode_becomes_asyncpg_ssl() -> None:
    """Hosting providers hand out `?sslmode=require`; asyncpg only takes `ssl=`."""
    from storage.db import driver_url

    url = driver_url("postgresql+asyncpg://u:pw@db.example:5432/app?sslmode=require")
    assert dict(url.query) == {"ssl": "require"}
    kept = driver_url("postgresql+asyncpg://u@h/app?sslmode=require&ssl=verify-full")
    assert dict(kept.query) == {"ssl": "verify-full"}
    assert driver_url("sqlite+aiosqlite:///x.db?sslmode=a").query == {"sslmode": "a"}
