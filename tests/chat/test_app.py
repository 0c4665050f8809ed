"""The Application: base URLs, handler discovery, command menus, start-up hooks, `paperboy run`."""

from __future__ import annotations

from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from bot.app import (
    COMMANDS,
    MissingToken,
    build_application,
    collect_handlers,
    file_base_url,
)
from bot.cli.commands import main
from bot.config import load_settings
from tests.chat.conftest import ChatDriver


def test_file_base_url() -> None:
    """`…/bot` becomes `…/file/bot` (Telegram's and the emulator's layout)."""
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:81/bot") == "http://127.0.0.1:81/file/bot"


def test_every_menu_command_has_a_handler() -> None:
    """Each command in the menu is handled by some module's HANDLERS."""
    handled = {
        name
        for handler, _group in collect_handlers()
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert set(COMMANDS) <= handled


def test_building_without_a_token_fails_clearly() -> None:
    """No token, no Application."""
    with pytest.raises(MissingToken, match="TELEGRAM_BOT_TOKEN"):
        build_application(load_settings(_env_file=None))


async def test_application_uses_the_configured_api(chat: ChatDriver) -> None:
    """The bot talks to TELEGRAM_API_BASE_URL, parses HTML by default and holds the services."""
    bot = chat.application.bot
    assert bot.base_url.startswith(chat.emulator.base_url)
    assert bot.base_file_url.startswith(chat.emulator.base_file_url)
    assert chat.application.bot.defaults is not None
    assert chat.application.bot.defaults.parse_mode == "HTML"
    assert chat.application.bot_data["services"] is chat.services


async def test_post_init_sets_commands_and_runs_hooks(chat: ChatDriver) -> None:
    """Start-up registers the command menu in ko, en and the default language, then the hooks."""
    assert chat.application.post_init is not None
    await chat.application.post_init(chat.application)
    korean = {c["command"]: c["description"] for c in chat.emulator.commands(language_code="ko")}
    english = {c["command"]: c["description"] for c in chat.emulator.commands(language_code="en")}
    default = chat.emulator.commands()
    assert set(korean) == set(english) == set(COMMANDS)
    assert korean["today"] == "최신 다이제스트"
    assert english["today"] == "The latest digest"
    assert [c["command"] for c in default] == list(COMMANDS)


async def test_start_up_hooks_run_after_the_commands(chat: ChatDriver) -> None:
    """`on_startup` hooks (the delivery jobs) run at post_init with the Application."""
    seen: list[object] = []

    async def hook(application: object) -> None:
        seen.append(application)

    settings = chat.services.settings
    app = build_application(settings, services=chat.services, on_startup=[hook])
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
    assert seen == [app]


def test_run_without_token_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`paperboy run` with no TELEGRAM_BOT_TOKEN exits 2 with one line naming it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["--db", f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", "run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "paperboy: TELEGRAM_BOT_TOKEN is required for `paperboy run`"
