"""`paperboy ingest` guards the archive: damaged files fail, cut files are held (`--force`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli.commands import main
from bot.digest.models import MAX_ISSUES
from handlers.admin import stats_text
from storage import papers as repo
from storage.db import create_engine, session_factory

SEED = Path("daily_papers_ko/2024/01/03.md")
DAY = dt.date(2024, 1, 3)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file URL in tmp_path, run from tmp_path so no stray .env is read."""
    monkeypatch.chdir(tmp_path)
    return f"sqlite+aiosqlite:///{tmp_path}/guards.sqlite3"


def ingest_json(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, Any]:
    """Run `paperboy ingest --json ARGS…`; (exit code, the last stdout line parsed)."""
    code = main(["--db", url, "ingest", *args, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


async def _read(url: str, what: str, **kw: Any) -> Any:
    """One repository read (or the /stats text when `what` is "stats")."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            if what == "stats":
                return await stats_text(session, "en")
            return await getattr(repo, what)(session, **kw)
    finally:
        await engine.dispose()


def read(url: str, what: str, **kw: Any) -> Any:
    """Synchronous `_read` for the (synchronous) command-line tests."""
    return asyncio.run(_read(url, what, **kw))


def test_a_file_of_broken_headings_fails_with_a_capped_error_list(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    """3 MB of `### [` lines: exit 1, 100 errors plus `… and N more`, nothing stored."""
    lines = 500_000
    path = tmp_path / "damaged.md"
    path.write_text("## Daily Papers (2024-01-04)\n" + "### [\n" * lines, encoding="utf-8")
    code, report = ingest_json(capsys, db_url, str(path))
    assert code == 1
    assert (report["failed"], report["digests"], report["papers"]) == (1, 0, 0)
    messages = [error["message"] for error in report["errors"]]
    assert len(messages) == MAX_ISSUES + 2
    assert messages[MAX_ISSUES] == f"… and {lines - MAX_ISSUES} more"
    assert messages[-1] == f"mostly damage ({lines} errors, 0 papers): not stored"
    assert report["errors"][-1]["fatal"] is True
    assert read(db_url, "digest_revisions", date=dt.date(2024, 1, 4)) == []


def test_a_heading_only_file_is_held_and_the_day_keeps_its_papers(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """The day's heading alone is stored as revision 2 but held: papers, days and summaries stay."""
    _, first = ingest_json(capsys, db_url, str(fixtures_dir / SEED))
    empty = tmp_path / "cut.md"
    empty.write_text("## Daily Papers (2024-01-03)\n", encoding="utf-8")
    code, report = ingest_json(capsys, db_url, str(empty))
    assert code == 1
    assert (report["held"], report["revised"], report["digests"], report["failed"]) == (1, 0, 0, 0)
    [issue] = report["errors"]
    assert issue["file"] == str(empty)
    assert f"0 papers where the current revision has {first['papers']}" in issue["message"]
    current = read(db_url, "digest_for_date", date=DAY)
    assert (current.revision, current.paper_count) == (1, first["papers"])
    revisions = read(db_url, "digest_revisions", date=DAY)
    assert [(r.revision, r.is_latest, r.paper_count) for r in revisions] == [
        (1, True, first["papers"]),
        (2, False, 0),
    ]
    days = read(db_url, "paper_days", arxiv_id="2401.00908")
    assert [day.date for day in days] == [DAY]
    paper = read(db_url, "day_papers", date=DAY)[0]
    assert paper.summary
    assert "Held revisions" in read(db_url, "stats")
    assert "): 1 (2024-01-03)" in read(db_url, "stats")


def test_a_held_file_again_is_held_again_and_force_makes_it_current(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """A truncated file: held twice without a second row; `--force` makes it the day."""
    seed = (fixtures_dir / SEED).read_text(encoding="utf-8")
    cut = tmp_path / "truncated.md"
    cut.write_text(seed[: seed.index("### [", seed.index("### [") + 1)], encoding="utf-8")
    ingest_json(capsys, db_url, str(fixtures_dir / SEED))
    _, held = ingest_json(capsys, db_url, str(cut))
    code, again = ingest_json(capsys, db_url, str(cut))
    assert (held["held"], again["held"], code) == (1, 1, 1)
    assert len(read(db_url, "digest_revisions", date=DAY)) == 2
    code, forced = ingest_json(capsys, db_url, str(cut), "--force")
    assert (code, forced["revised"], forced["held"]) == (0, 1, 0)
    current = read(db_url, "digest_for_date", date=DAY)
    assert (current.revision, current.paper_count) == (3, 1)
    assert "): 0 (-)" in read(db_url, "stats")


def test_the_text_summary_counts_held_files(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """Without `--json` the summary line counts the held file and says what to do."""
    ingest_json(capsys, db_url, str(fixtures_dir / SEED))
    empty = tmp_path / "cut.md"
    empty.write_text("## Daily Papers (2024-01-03)\n", encoding="utf-8")
    assert main(["--db", db_url, "ingest", str(empty)]) == 1
    out = capsys.readouterr().out
    assert "0 unchanged, 1 held, 0 failed" in out
    assert "--force" in out
