"""`paperboy console`: the real bot offline in a terminal, driven through stdin and stdout."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.cli.console import chat, console_database, entities_to_terminal
from bot.config import load_settings

BOLD, PLAIN = "\x1b[1m", "\x1b[22m"


def test_entities_become_terminal_text() -> None:
    """Links show their URL, styles become ANSI codes, offsets count UTF-16 units (emoji)."""
    text = "🙂 DocLLM paper"
    entities = [
        {"type": "text_link", "offset": 3, "length": 6, "url": "https://arxiv.org/abs/1"},
        {"type": "bold", "offset": 10, "length": 5},
    ]
    plain = entities_to_terminal(text, entities, ansi=False)
    assert plain == "🙂 DocLLM <https://arxiv.org/abs/1> paper"
    styled = entities_to_terminal(text, entities, ansi=True)
    assert styled.endswith(f"{BOLD}paper{PLAIN}")


def test_quotes_and_no_entities() -> None:
    """A blockquote gets a bar; text without entities (even `<b>`) passes through unchanged."""
    assert entities_to_terminal("<b>&", [], ansi=True) == "<b>&"
    quoted = entities_to_terminal(
        "a\nquote", [{"type": "blockquote", "offset": 2, "length": 5}], ansi=False
    )
    assert quoted == "a\n│ quote"


def test_console_uses_a_configured_database(tmp_path: Path) -> None:
    """An explicit DATABASE_URL is used; otherwise a throwaway SQLite file in the folder."""
    configured = load_settings(database_url="sqlite+aiosqlite:///x.db", _env_file=None)
    assert console_database(configured, tmp_path) == "sqlite+aiosqlite:///x.db"
    default = load_settings(_env_file=None)
    assert console_database(default, tmp_path).endswith("console.sqlite3")


async def test_console_session(tmp_path: Path) -> None:
    """Commands, numbered button presses and /quit work against the real bot over loopback."""
    typed = "/paper 2401.00908\n\n/search model\n7\n9\n/author rafal poswiata\n/quit\n/today\n"
    out = io.StringIO()
    url = f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}"
    await chat(
        load_settings(default_language="en", _env_file=None),
        stdin=io.StringIO(typed),
        stdout=out,
        database_url=url,
    )
    shown = out.getvalue()
    assert "DocLLM" in shown
    assert "PDF <https://arxiv.org/pdf/2401.00908>" in shown
    assert "[1] ⭐ 1" in shown  # each result's save button comes first
    assert "[7] ▶" in shown
    assert "(edited) Search: model" in shown
    assert "6. " in shown
    assert "there is no button 9" in shown
    assert "Papers by Rafał Poświata" in shown
    assert "Daily Papers" not in shown  # nothing is read after /quit
    assert "\x1b[" not in shown  # no ANSI codes when the output is not a terminal


async def test_console_shows_a_day_summarized_by_paperboy(tmp_path: Path) -> None:
    """The sample HF day, which no Korean digest covers, gets Korean bullets via the local fake."""
    out = io.StringIO()
    url = f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}"
    await chat(
        load_settings(default_language="ko", _env_file=None),
        stdin=io.StringIO("/digest 2025-01-10\n/quit\n"),
        stdout=out,
        database_url=url,
    )
    shown = out.getvalue()
    assert "2025-01-10" in shown
    assert "소개합니다" in shown  # the fake model's Korean bullets, validated and stored


def test_paperboy_console_command(tmp_path: Path) -> None:
    """`paperboy console` with piped input and no token runs offline, in Korean by default."""
    skip = ("TELEGRAM_", "DATABASE_", "DEFAULT_LANGUAGE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    done = subprocess.run(
        [Path(sys.executable).with_name("paperboy"), "console"],
        input="/paper 2401.00908\n/quit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "DocLLM" in done.stdout
    assert "소개된 날: 2024-01-03" in done.stdout
