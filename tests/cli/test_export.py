"""`paperboy export`: Markdown days byte for byte, HF days through the parser, trees, errors;
and the seed writer's round trip through the Markdown parser."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.commands import main
from bot.content.ingest import ingest
from bot.digest.hf_json import parse_hf_json
from bot.digest.markdown import parse_markdown
from bot.digest.models import Paper, SummarySection
from bot.render.seed import render_seed_digest
from storage.db import create_engine, session_factory, upgrade

DAY = dt.date(2025, 3, 3)


async def _ingest(url: str, items: list[str]) -> None:
    """Migrate `url` and ingest `items` into it."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        report = await ingest(items, sessions=session_factory(engine))
    finally:
        await engine.dispose()
    assert report.failed == 0, report.errors


def archive(folder: Path, *items: Path) -> str:
    """A real SQLite file in `folder` holding the digests of `items` (files or folders)."""
    url = f"sqlite+aiosqlite:///{folder}/export.sqlite3"
    asyncio.run(_ingest(url, [str(item) for item in items]))
    return url


@pytest.fixture(scope="module")
def corpus_url(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> str:
    """Every Markdown and HF JSON day of the shared corpus, ingested once for this module."""
    folder = tmp_path_factory.mktemp("export-corpus")
    return archive(folder, corpus_dir / "daily_papers_ko", corpus_dir / "hf_api_b")


@pytest.fixture(scope="module")
def json_url(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> str:
    """Only the corpus's HF JSON days: every day exported is generated."""
    return archive(tmp_path_factory.mktemp("export-json"), corpus_dir / "hf_api_b")


@pytest.fixture(autouse=True)
def _no_stray_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from tmp_path, so no `.env` of the working tree is read."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    """A SQLite file that does not exist yet (export creates and migrates it)."""
    return f"sqlite+aiosqlite:///{tmp_path}/fresh.sqlite3"


def last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    """The JSON object on the last stdout line."""
    found: dict[str, int] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return found


def test_every_markdown_day_comes_back_byte_for_byte(
    corpus_url: str, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tree from --since is the corpus itself: same files, same bytes, Markdown winning."""
    out = tmp_path / "tree"
    assert main(["--db", corpus_url, "export", "--since", "2000-01-01", "--dir", str(out)]) == 0
    assert "days since 2000-01-01" in capsys.readouterr().out
    source = corpus_dir / "daily_papers_ko"
    markdown = sorted(p.relative_to(source) for p in source.rglob("*.md"))
    assert len(markdown) == 205
    for relative in markdown:
        assert (out / relative).read_bytes() == (source / relative).read_bytes(), relative
    written = sorted(p.relative_to(out) for p in out.rglob("*.md"))
    json_days = {p.stem for p in (corpus_dir / "hf_api_b").glob("*.json")}
    only_json = {f"{p.parts[0]}-{p.parts[1]}-{p.stem}" for p in set(written) - set(markdown)}
    assert only_json <= json_days
    assert "2024-10-18" in json_days - only_json  # a day in both: its Markdown text won


def test_one_day_to_a_file_and_to_stdout(
    corpus_url: str, corpus_dir: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """`export DATE --out FILE` and `export DATE` write the same bytes as the seed file."""
    seed = (corpus_dir / "daily_papers_ko" / "2024" / "10" / "18.md").read_bytes()
    out = tmp_path / "new" / "folder" / "day.md"
    assert main(["--db", corpus_url, "export", "2024-10-18", "--out", str(out)]) == 0
    assert out.read_bytes() == seed
    assert main(["--db", corpus_url, "export", "2024-10-18"]) == 0
    assert capsysbinary.readouterr().out == seed


def test_hf_json_days_read_back_to_the_same_papers(
    json_url: str, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each generated day parses to the list's ids, titles, votes and authors, in order."""
    out = tmp_path / "tree"
    args = ["--db", json_url, "export", "--since", "2024-01-01", "--dir", str(out), "--json"]
    assert main(args) == 0
    assert last_json(capsys) == {"days": 8, "files": 8, "markdown_verbatim": 0, "generated": 8}
    for source in sorted((corpus_dir / "hf_api_b").glob("*.json")):
        listed = parse_hf_json(source.read_text(encoding="utf-8"), source=str(source))
        date = listed.date
        exported = parse_markdown((out / f"{date:%Y/%m/%d}.md").read_text(), source="export")
        assert exported.errors == ()
        assert exported.date == date
        assert [(p.arxiv_id, p.title, p.votes, p.authors) for p in exported.papers] == [
            (p.arxiv_id, p.title, p.votes, p.authors) for p in listed.papers
        ], date
        assert all(p.summary == () for p in exported.papers)


def test_since_counts_verbatim_and_generated_days(
    corpus_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From 2025-01-10 on: the Markdown days verbatim (HF lists of the same days too), the one
    JSON-only day (2026-08-21) generated."""
    out = tmp_path / "tree"
    args = ["--db", corpus_url, "export", "--since", "2025-01-10", "--dir", str(out), "--json"]
    assert main(args) == 0
    report = last_json(capsys)
    files = sorted(out.rglob("*.md"))
    assert report["days"] == report["files"] == len(files)
    assert report["generated"] == 1
    assert report["markdown_verbatim"] == len(files) - 1
    assert (out / "2026" / "08" / "21.md").read_text().startswith("## Daily Papers (2026-08-21)")
    assert min(f"{p.parts[-3]}-{p.parts[-2]}-{p.stem}" for p in files) >= "2025-01-10"


def test_a_day_not_in_the_archive_is_one_clear_error(
    corpus_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown day exits 1 with one line naming the date."""
    assert main(["--db", corpus_url, "export", "2023-01-01"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "paperboy: no digest for 2023-01-01 in the archive"
    assert captured.out == ""


@pytest.mark.parametrize(
    "args",
    [
        ["export", "2024-13-01"],
        ["export", "yesterday"],
        ["export", "--since", "2024-02-30", "--dir", "x"],
    ],
)
def test_a_bad_date_is_a_usage_error(
    empty_url: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """A date that is not YYYY-MM-DD stops argument parsing with status 2 and names it."""
    with pytest.raises(SystemExit) as stopped:
        main(["--db", empty_url, *args])
    assert stopped.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["export"],
        ["export", "2024-10-18", "--since", "2024-10-01", "--dir", "x"],
        ["export", "--since", "2024-10-01"],
        ["export", "2024-10-18", "--json"],
        ["export", "--since", "2024-10-01", "--dir", "x", "--out", "y"],
    ],
)
def test_wrong_combinations_are_usage_errors(
    empty_url: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """DATE or --since (with --dir), never both, each with its own options: else status 2."""
    assert main(["--db", empty_url, *args]) == 2
    assert capsys.readouterr().err.startswith("paperboy export: ")


def test_unwritable_paths_are_clear_errors(
    corpus_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file where a folder must go, for --out or --dir, exits 1 naming the path."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["--db", corpus_url, "export", "2024-10-18", "--out", str(blocker / "d.md")]) == 1
    assert f"cannot write {blocker / 'd.md'}" in capsys.readouterr().err
    assert main(["--db", corpus_url, "export", "--since", "2025-01-01", "--dir", str(blocker)]) == 1
    assert f"cannot write {blocker}" in capsys.readouterr().err


def test_export_upgrades_a_new_database_first(
    empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database file that does not exist yet is migrated, then reported as lacking the day."""
    assert main(["--db", empty_url, "export", "2024-10-18"]) == 1
    assert "no digest for 2024-10-18" in capsys.readouterr().err
    out = tmp_path / "tree"
    args = ["--db", empty_url, "export", "--since", "2024-01-01", "--dir", str(out), "--json"]
    assert main(args) == 0
    assert last_json(capsys) == {"days": 0, "files": 0, "markdown_verbatim": 0, "generated": 0}


def test_markdown_day_wins_over_a_newer_hf_list(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A day ingested as Markdown, then as an HF list, exports the Markdown text verbatim."""
    folder = tmp_path / "in"
    (folder / "2024" / "10").mkdir(parents=True)
    markdown = corpus_dir / "daily_papers_ko" / "2024" / "10" / "18.md"
    shutil.copyfile(markdown, folder / "2024" / "10" / "18.md")
    url = archive(tmp_path, folder)
    asyncio.run(_ingest(url, [str(corpus_dir / "hf_api_b" / "2024-10-18.json")]))
    out = tmp_path / "out.md"
    assert main(["--db", url, "export", "2024-10-18", "--out", str(out)]) == 0
    assert out.read_bytes() == markdown.read_bytes()


# The writer alone: whatever a paper holds, the parser reads the same paper back.

_ODD = st.characters(codec="utf-8", exclude_characters="\n\r")  # utf-8: no lone surrogates
_TEXT = st.text(_ODD, min_size=1, max_size=60).map(str.strip).filter(bool)
_ODD_PIECES = st.sampled_from(["]", "[", "](", ")", "](https://arxiv.org/abs/1", "**", "*", "_"])
_TITLE = st.lists(st.one_of(_TEXT, _ODD_PIECES), min_size=1, max_size=5).map(
    lambda parts: " ".join(parts).strip()
)
_NAME = st.one_of(_TEXT, st.sampled_from(["A, Jr.", "[Bot]", "+ plus", "O'Neil", 'Q "Q"']))
_KEY = st.text(st.characters(exclude_characters="\n\r*_:'‘’"), min_size=1, max_size=40).map(
    str.strip
)
_SECTION = st.builds(
    SummarySection,
    title=st.one_of(st.none(), _KEY.filter(bool)),
    bullets=st.lists(_TEXT.filter(lambda b: not b.startswith("* ")), min_size=1, max_size=3).map(
        tuple
    ),
)


@st.composite
def papers(draw: st.DrawFn) -> Paper:
    """A paper with odd titles, authors and bullets (no line breaks: the writer folds them)."""
    number = draw(st.integers(0, 99999))
    names = draw(st.lists(_NAME, max_size=6, unique=True))
    names = [n for n in dict.fromkeys(n.strip() for n in names) if n not in ("+", "…", "...")]
    arxiv_id = f"2503.{number:05d}"
    return Paper(
        arxiv_id=arxiv_id,
        title=draw(_TITLE),
        link=f"https://arxiv.org/abs/{arxiv_id}",
        votes=draw(st.one_of(st.none(), st.integers(0, 10**6))),
        authors=tuple(names),
        authors_truncated=draw(st.booleans()),
        summary=tuple(draw(st.lists(_SECTION, max_size=4))),
        media_url=draw(st.one_of(st.none(), st.just("https://cdn.example/a b(c).png"))),
    )


def _merged(sections: tuple[SummarySection, ...]) -> list[tuple[str | None, list[str]]]:
    """Sections as the parser groups them: neighbours with one title are one section."""
    merged: list[tuple[str | None, list[str]]] = []
    for section in sections:
        if merged and merged[-1][0] == section.title:
            merged[-1][1].extend(section.bullets)
        else:
            merged.append((section.title, list(section.bullets)))
    return merged


@settings(max_examples=300, deadline=None)
@given(st.lists(papers(), min_size=1, max_size=4, unique_by=lambda p: p.arxiv_id))
def test_rendered_papers_parse_back_unchanged(listed: list[Paper]) -> None:
    """Titles, votes, authors (commas, brackets, quotes) and bullets survive render → parse."""
    digest = parse_markdown(render_seed_digest(DAY, listed), source="seed")
    assert digest.errors == ()
    assert digest.date == DAY
    assert len(digest.papers) == len(listed)
    for back, paper in zip(digest.papers, listed, strict=True):
        assert (back.arxiv_id, back.title, back.votes) == (paper.arxiv_id, paper.title, paper.votes)
        assert (back.authors, back.authors_truncated) == (paper.authors, paper.authors_truncated)
        assert _merged(back.summary) == _merged(paper.summary)
        assert (back.media_url is None) == (paper.media_url is None)


def test_line_breaks_in_fields_become_spaces() -> None:
    """A title or bullet holding a line break cannot start a heading of its own."""
    paper = Paper(
        arxiv_id="2503.00001",
        title="One\n## Daily Papers (2020-01-01)",
        link="https://arxiv.org/abs/2503.00001",
        summary=(SummarySection(bullets=("a\n### [x](https://arxiv.org/abs/2503.00002)",)),),
    )
    [back] = parse_markdown(render_seed_digest(DAY, [paper]), source="seed").papers
    assert back.title == "One ## Daily Papers (2020-01-01)"
    assert back.summary[0].bullets == ("a ### [x](https://arxiv.org/abs/2503.00002)",)


def test_every_corpus_day_rerendered_parses_to_the_same_papers(corpus_dir: Path) -> None:
    """All 2,717 real papers, written back by the writer, parse to the same fields."""
    fields = ("arxiv_id", "title", "media_url", "media_kind", "votes", "authors", "summary")
    for path in sorted((corpus_dir / "daily_papers_ko").rglob("*.md")):
        digest = parse_markdown(path.read_text(encoding="utf-8"), source=str(path))
        again = parse_markdown(render_seed_digest(digest.date, digest.papers), source="again")
        assert again.errors == (), path
        for back, paper in zip(again.papers, digest.papers, strict=True):
            assert [getattr(back, f) for f in fields] == [getattr(paper, f) for f in fields]
            assert back.authors_truncated == paper.authors_truncated
