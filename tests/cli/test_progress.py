"""The command line's progress bars (tqdm): drawn on a terminal, silent anywhere else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli.commands import main
from bot.cli.progress import ProgressBar, RowCounter


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Pretend to be a TTY."""
        return True


def test_a_bar_on_a_terminal_shows_counts_rate_and_the_item() -> None:
    """Three files on a terminal: `3/3`, a rate in files per second, the last name, a newline."""
    stream = Terminal()
    with ProgressBar(stream) as progress:
        for done in range(1, 4):
            progress(done, 3, f"digests/2024/01/0{done}.md")
    drawn = stream.getvalue()
    assert "3/3" in drawn
    assert "file/s" in drawn
    assert "2024/01/03.md" in drawn
    assert drawn.endswith("\n")


def test_row_counter_starts_a_bar_per_table() -> None:
    """Rows copied are counted per table, each table on its own bar."""
    stream = Terminal()
    with RowCounter(stream) as counter:
        counter.rows("papers", 2000)
        counter.rows("papers", 4000)
        counter.rows("authors", 10)
    drawn = stream.getvalue()
    assert "papers: " in drawn
    assert "4000" in drawn
    assert "authors: " in drawn
    assert "row" in drawn


def test_nothing_is_drawn_off_a_terminal() -> None:
    """A pipe or a file gets no bar at all."""
    stream = io.StringIO()
    with ProgressBar(stream) as progress, RowCounter(stream) as counter:
        progress(1, 2, "a.md")
        progress(2, 2, "b.md")
        counter.rows("papers", 10)
    assert stream.getvalue() == ""


def test_ingest_off_a_terminal_keeps_stderr_clean(
    capsys: pytest.CaptureFixture[str],
    fixtures_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`paperboy ingest` with stderr captured writes nothing there, the JSON line last on stdout."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    url = f"sqlite+aiosqlite:///{tmp_path}/bar.sqlite3"
    assert main(["--db", url, "ingest", str(fixtures_dir / "daily_papers_ko"), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.strip().splitlines()[-1].startswith('{"files": ')
