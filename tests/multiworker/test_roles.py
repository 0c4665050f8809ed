"""`paperboy run --role`: split roles need PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.commands import main


@pytest.mark.parametrize("role", ["updates", "delivery"])
def test_split_role_refused_on_sqlite(
    role: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A role other than `all` on SQLite exits 2 with one line naming the fix."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'solo.sqlite3'}"
    assert main(["--db", url, "run", "--role", role]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert f"--role {role} needs PostgreSQL" in err
    assert "--role all" in err
