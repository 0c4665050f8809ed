"""`paperboy ingest`, `db upgrade` and `run` end to end on real SQLite files and loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from bot.cli.commands import main
from bot.digest.models import Paper
from storage import papers as repo
from storage.db import alembic_config, create_engine, session_factory
from storage.models import DigestEntry, StoredDigest, StoredPaper

SEED = Path("daily_papers_ko/2024/01/03.md")
DAY = dt.date(2024, 1, 3)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file URL in tmp_path, run from tmp_path so no stray .env is read."""
    monkeypatch.chdir(tmp_path)
    return f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3"


@pytest.fixture
def http_root(fixtures_dir: Path) -> Iterator[str]:
    """A loopback HTTP server serving tests/fixtures; yields its base URL."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(fixtures_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def ingest_json(capsys: pytest.CaptureFixture[str], url: str, *sources: str) -> tuple[int, Any]:
    """Run `paperboy ingest --json` and parse the last stdout line."""
    code = main(["--db", url, "ingest", *sources, "--json"])
    lines = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(lines[-1])


async def _query(url: str, what: str, **kw: Any) -> Any:
    """Open the database and run one repository read (or a row count)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            if what == "counts":
                tables = (StoredDigest, StoredPaper, DigestEntry)
                stmts = [select(func.count()).select_from(t) for t in tables]
                return [(await session.execute(s)).scalar_one() for s in stmts]
            return await getattr(repo, what)(session, **kw)
    finally:
        await engine.dispose()


def query(url: str, what: str, **kw: Any) -> Any:
    """Synchronous wrapper of `_query` for the (synchronous) CLI tests."""
    return asyncio.run(_query(url, what, **kw))


def day_papers(url: str) -> list[Paper]:
    """The papers of the latest revision of the seed day."""
    info = query(url, "digest_for_date", date=DAY)
    papers: list[Paper] = query(url, "digest_papers", digest_id=info.id)
    return papers


def test_seed_day_reads_back_field_by_field(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path
) -> None:
    """The 2024-01-03 digest comes back with its titles, media, votes, authors and summary."""
    code, report = ingest_json(capsys, db_url, str(fixtures_dir / SEED))
    assert code == 0
    assert (report["files"], report["digests"], report["unchanged"]) == (1, 1, 0)
    papers = day_papers(db_url)
    assert report["papers"] == report["new_papers"] == len(papers) > 5
    first = papers[0]
    assert first.title.startswith("DocLLM: A layout-aware generative language model")
    assert first.link == "https://arxiv.org/abs/2401.00908"
    assert first.media_kind == "image"
    assert first.media_url is not None
    assert first.media_url.endswith("QLjS9pkeHviuaNyoBvkvu.png")
    assert first.votes == 48
    assert first.authors[:4] == ("Dongsheng Wang", "Natraj Raman", "Mathieu Sibue", "Zhiqiang Ma")
    assert first.authors.count("Mathieu Sibue") == 1
    assert len(first.authors) == 9
    bullets = [bullet for section in first.summary for bullet in section.bullets]
    assert len(bullets) == 6
    assert bullets[0].startswith("본 논문에서는 텍스트 및 공간적")
    assert first.raw.startswith("### [DocLLM")
    assert "Vote: 48" in first.raw
    assert papers[1].arxiv_id == "2401.01335"
    assert papers[1].votes == 18
    days = query(db_url, "paper_days", arxiv_id="2401.00908")
    assert [(d.date, d.votes, d.position) for d in days] == [(DAY, 48, 0)]


def test_reingest_is_a_no_op(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path
) -> None:
    """Ingesting the same file twice reports it unchanged and adds no rows."""
    ingest_json(capsys, db_url, str(fixtures_dir / SEED))
    before = query(db_url, "counts")
    code, report = ingest_json(capsys, db_url, str(fixtures_dir / SEED))
    assert code == 0
    assert (report["digests"], report["unchanged"], report["new_papers"]) == (0, 1, 0)
    assert query(db_url, "counts") == before


def test_changed_file_becomes_revision_two(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """An edited day file is stored as revision 2; revision 1 and its entries stay."""
    copy = tmp_path / "2024" / "01" / "03.md"
    copy.parent.mkdir(parents=True)
    shutil.copy(fixtures_dir / SEED, copy)
    ingest_json(capsys, db_url, str(copy))
    text = copy.read_text(encoding="utf-8").replace("Vote: 48", "Vote: 99", 1)
    copy.write_text(text.replace("[DocLLM:", "[DocLLM v2:", 1), encoding="utf-8")
    code, report = ingest_json(capsys, db_url, str(copy))
    assert code == 0
    assert report["digests"] == 1
    assert report["new_papers"] == 0
    revisions = query(db_url, "digest_revisions", date=DAY)
    assert [(r.revision, r.is_latest) for r in revisions] == [(1, False), (2, True)]
    paper = query(db_url, "get_paper", arxiv_id="2401.00908")
    assert paper.title.startswith("DocLLM v2:")
    assert paper.latest_votes == 99
    old = query(db_url, "digest_papers", digest_id=revisions[0].id)
    assert old[0].title.startswith("DocLLM:")
    assert old[0].votes == 48
    digests, _, entries = query(db_url, "counts")
    assert digests == 2
    assert entries == 2 * len(old)


def test_unreadable_file_exits_1_and_names_it(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """A missing file and an unparsable one give exit 1, while good files are still stored."""
    junk = tmp_path / "junk.md"
    junk.write_text("nothing to see here\n", encoding="utf-8")
    missing = str(tmp_path / "missing.md")
    code = main(["--db", db_url, "ingest", missing, str(junk), str(fixtures_dir / SEED)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{missing}:0: no such file" in out
    assert f"{junk}:" in out
    assert "1 digests stored" in out


def test_json_last_line_shape(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    """With --json the last line is one object with the contract's keys and error fields."""
    code, report = ingest_json(capsys, db_url, str(tmp_path / "nope.json"))
    assert code == 1
    assert {"files", "digests", "papers", "new_papers", "errors", "unchanged"} <= set(report)
    error = report["errors"][0]
    assert (error["file"], error["line"]) == (str(tmp_path / "nope.json"), 0)
    assert error["message"] == "no such file"


def test_url_ingest_over_loopback(
    capsys: pytest.CaptureFixture[str], db_url: str, http_root: str
) -> None:
    """Digests are fetched over HTTP; a 404 is a named error with exit 1."""
    good = f"{http_root}/{SEED.as_posix()}"
    missing = f"{http_root}/daily_papers_ko/1999/01/01.md?token=s3cret"
    code, report = ingest_json(capsys, db_url, good, missing)
    assert code == 1
    assert report["digests"] == 1
    assert day_papers(db_url)[0].arxiv_id == "2401.00908"
    [error] = [e for e in report["errors"] if e["fatal"]]
    assert "HTTP 404" in error["message"]
    assert "s3cret" not in json.dumps(report)


def test_whole_corpus_ingests(
    capsys: pytest.CaptureFixture[str], db_url: str, corpus_dir: Path
) -> None:
    """Every corpus file (Markdown and JSON, recursively) is stored without a fatal error."""
    code, report = ingest_json(capsys, db_url, str(corpus_dir))
    assert code == 0, [e for e in report["errors"] if e["fatal"]]
    assert report["files"] >= 200
    assert report["papers"] > 2500
    stats = query(db_url, "archive_stats")
    assert stats.papers > 2500
    assert stats.author_links > 15000
    assert query(db_url, "find_authors", query="Rocktaschel", limit=3)[0].name == "Tim Rocktäschel"


def test_db_upgrade_prints_revision(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    """`paperboy db upgrade` creates the schema and prints the revision."""
    assert main(["--db", db_url, "db", "upgrade"]) == 0
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"revision {head}" in capsys.readouterr().out


def test_invalid_setting_exits_2(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    """A bad database URL is one line on stderr naming the setting, exit 2."""
    assert main(["--db", "mysql://nope", "db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert "DATABASE_URL" in err
    assert len(err.splitlines()) == 1


def test_run_without_token_says_how_to_fix_it(
    capsys: pytest.CaptureFixture[str], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`paperboy run` with no TELEGRAM_BOT_TOKEN exits 2 with one line naming the setting."""
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(db_url.removeprefix("sqlite+aiosqlite:///").rsplit("/", 1)[0])
    assert main(["--db", db_url, "run"]) == 2
    err = capsys.readouterr().err.strip()
    assert "TELEGRAM_BOT_TOKEN" in err
    assert len(err.splitlines()) == 1


def test_database_error_fails_only_its_file(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """A file the database refuses fails alone; the others in its batch are still stored."""
    folder = tmp_path / "batch"
    for day in ("2023/12/26.md", "2024/01/03.md", "2024/03/01.md"):
        target = folder / day
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fixtures_dir / "daily_papers_ko" / day, target)
    assert main(["--db", db_url, "db", "upgrade"]) == 0
    with sqlite3.connect(db_url.removeprefix("sqlite+aiosqlite:///")) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON papers WHEN NEW.arxiv_id = '2401.00908' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    code, report = ingest_json(capsys, db_url, str(folder))
    assert code == 1
    assert (report["files"], report["digests"], report["failed"]) == (3, 2, 1)
    [error] = report["errors"]
    assert error["file"] == str(folder / "2024/01/03.md")
    assert error["message"] == "database error: IntegrityError"
    assert query(db_url, "digest_for_date", date=DAY) is None
    assert query(db_url, "archive_stats").days == 2


def test_file_cut_inside_a_character_keeps_what_came_before(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """A copy cut in the middle of a Korean character stores its papers and says where."""
    data = (fixtures_dir / SEED).read_bytes()
    cut = next(i for i, byte in enumerate(data) if byte >= 0xE0) + 1  # inside a 3-byte character
    (tmp_path / "cut.md").write_bytes(data[:cut])
    code, report = ingest_json(capsys, db_url, str(tmp_path / "cut.md"))
    assert code == 0
    assert report["digests"] == 1
    assert report["papers"] > 0
    [note] = report["errors"]
    assert not note["fatal"]
    assert note["line"] == data.count(b"\n", 0, cut) + 1
    assert "ends inside a character" in note["message"]


def test_invalid_byte_names_its_line(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """A byte that is not UTF-8 in the middle of a file: fatal, with the line it is on."""
    lines = (fixtures_dir / SEED).read_bytes().split(b"\n")
    lines[6] += b"\xff"
    (tmp_path / "bad.md").write_bytes(b"\n".join(lines))
    code, report = ingest_json(capsys, db_url, str(tmp_path / "bad.md"))
    assert code == 1
    [error] = report["errors"]
    assert error["fatal"]
    assert "not UTF-8 text (line 7," in error["message"]


def test_malformed_urls_fail_alone_without_their_secrets(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path
) -> None:
    """A URL with an impossible port or a broken IPv6 host is one named error, not a crash."""
    bad = ["http://u:pw1234@127.0.0.1:99999/x.md?token=zz9", "http://[::1/x.md", "http://h:abc/x"]
    code = main(["--db", db_url, "ingest", str(fixtures_dir / SEED), *bad, "--json"])
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 1
    assert report["digests"] == 1
    assert [e["fatal"] for e in report["errors"]] == [True, True, True]
    assert "pw1234" not in out
    assert "zz9" not in out


async def test_progress_names_urls_without_their_secrets(http_root: str, tmp_path: Path) -> None:
    """The progress line (shown on a terminal) gets the redacted URL, as the report does."""
    from bot.content.ingest import ingest
    from storage.db import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/p.sqlite3"
    await upgrade(url)
    engine = create_engine(url)
    shown: list[str] = []
    try:
        report = await ingest(
            [f"http://bob:pa55word@127.0.0.1:{http_root.rsplit(':', 1)[1]}/{SEED}?token=zz9"],
            sessions=session_factory(engine),
            progress=lambda _done, _total, name: shown.append(name),
        )
    finally:
        await engine.dispose()
    assert report.digests == 1
    assert len(shown) == 1
    assert "pa55word" not in shown[0]
    assert "zz9" not in shown[0]


def test_oversized_download_is_refused(
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    http_root: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A body past the size cap is refused while it streams in, with a named error."""
    monkeypatch.setattr("bot.content.ingest.MAX_BYTES", 4096)
    code, report = ingest_json(capsys, db_url, f"{http_root}/{SEED.as_posix()}")
    assert code == 1
    [error] = report["errors"]
    assert "larger than 4096 bytes" in error["message"]


def test_unreachable_database_names_the_cause_without_the_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "postgresql+asyncpg://postgres:sekret99@127.0.0.1:1/test"
    assert main(["--db", url, "db", "upgrade"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "ConnectionRefusedError" in err
    assert "postgres:***@127.0.0.1:1/test" in err
    assert "sekret99" not in err


def test_a_database_from_a_newer_paperboy_is_one_line(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    assert main(["--db", db_url, "db", "upgrade"]) == 0
    path = db_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    capsys.readouterr()
    assert main(["--db", db_url, "db", "upgrade"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("paperboy: database schema:")
    assert "0099" in err
    assert "\n" not in err
    assert "Traceback" not in err


def test_a_libpq_sslmode_url_connects(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    """`?sslmode=prefer`, as hosting providers write it, works on PostgreSQL."""
    if not database_url.startswith("postgresql"):
        pytest.skip("sslmode is a PostgreSQL URL parameter")
    assert main(["--db", f"{database_url}?sslmode=prefer", "db", "upgrade"]) == 0
    assert "database at revision" in capsys.readouterr().out


def test_folders_skip_hidden_folders(
    capsys: pytest.CaptureFixture[str], db_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    """`.github/ISSUE_TEMPLATE/bug.md` in a checkout of the digests is not a digest."""
    root = tmp_path / "checkout"
    (root / ".github" / "ISSUE_TEMPLATE").mkdir(parents=True)
    (root / ".github" / "ISSUE_TEMPLATE" / "bug.md").write_text("# Bug\n", encoding="utf-8")
    (root / "2024").mkdir()
    shutil.copy(fixtures_dir / SEED, root / "2024" / "03.md")
    code, report = ingest_json(capsys, db_url, str(root))
    assert code == 0
    assert report["files"] == 1
    assert report["digests"] == 1
