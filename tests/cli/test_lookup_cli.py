"""`paperboy paper`, `search` and `author` print the same look-ups as the chat commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from bot.cli.commands import main
from bot.digest import SummarySection
from storage.db import create_engine, session_factory
from storage.summaries import claim_summary, complete_summary


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    """The JSON object on the last stdout line."""
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_paper_by_url_with_version(
    seeded_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A versioned arxiv.org URL finds the paper with its summary and featured days."""
    url = "https://arxiv.org/abs/2401.00908v2"
    assert main(["--db", seeded_database_url, "paper", url, "--json"]) == 0
    paper = _json(capsys)
    assert isinstance(paper, dict)
    assert paper["arxiv_id"] == "2401.00908"
    assert paper["title"].startswith("DocLLM")
    assert paper["votes"] == 48
    assert {"date": "2024-01-03", "votes": 48} in paper["days"]
    assert paper["summary"][0]["bullets"][0].startswith("본 논문에서는")
    assert paper["summary_source"] == "daily_papers_ko"


def test_paper_json_has_both_languages_and_hf_fields(
    seeded_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A paper only the HF list carries has no Korean summary, its abstract and the HF keys."""
    assert main(["--db", seeded_database_url, "paper", "2501.05441", "--json"]) == 0
    paper = _json(capsys)
    assert isinstance(paper, dict)
    assert paper["summary"] == []
    assert paper["summary_source"] is None
    assert paper["abstract"]
    assert {"date": "2025-01-10", "votes": paper["days"][0]["votes"]} in paper["days"]
    assert {
        "ai_summary",
        "ai_keywords",
        "github_repo",
        "github_stars",
        "project_page",
        "num_comments",
        "submitter",
        "organization",
    } <= set(paper)


@pytest.mark.parametrize("ref", ["not-an-id", "9999.99999", "<b>2401.00908</b>"])
def test_paper_bad_or_unknown_id_exits_1(
    seeded_database_url: str, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    """A malformed or unknown id is one clear line on stderr and exit status 1."""
    assert main(["--db", seeded_database_url, "paper", ref]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "arXiv id" in err or "not in the archive" in err


def test_search_and_author_json(
    seeded_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`search --json` lists {arxiv_id, title, score, partial}; `author --json` lists the
    author's papers."""
    assert main(["--db", seeded_database_url, "search", "DocLLM", "--limit", "3", "--json"]) == 0
    hits = _json(capsys)
    assert isinstance(hits, list)
    assert hits[0]["arxiv_id"] == "2401.00908"
    assert set(hits[0]) == {"arxiv_id", "title", "score", "partial"}
    assert hits[0]["partial"] is False
    assert main(["--db", seeded_database_url, "author", "mathieu sibue", "--json"]) == 0
    authors = _json(capsys)
    assert isinstance(authors, list)
    assert authors[0]["name"] == "Mathieu Sibue"
    assert "2401.00908" in [p["arxiv_id"] for p in authors[0]["papers"]]


def test_author_lists_the_papers_of_every_spelling(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`Björn Ommer` and `Bjorn Ommer` are one person: one hit, both papers."""
    from tests.search.test_query_fixes import DIGEST

    digest = tmp_path / "2025" / "01" / "27.md"
    digest.parent.mkdir(parents=True)
    digest.write_text(DIGEST, encoding="utf-8")
    assert main(["--db", database_url, "ingest", str(digest)]) == 0
    capsys.readouterr()
    assert main(["--db", database_url, "author", "bjorn ommer", "--json"]) == 0
    authors = _json(capsys)
    assert isinstance(authors, list)
    [author] = authors
    assert author["paper_count"] == 2
    assert {p["arxiv_id"] for p in author["papers"]} == {"2501.04519", "2401.04081"}


async def _store_generated(url: str, arxiv_id: str, model: str) -> None:
    """A done generated Korean summary for `arxiv_id`, as the summarizer stores one."""
    now = dt.datetime(2025, 1, 10, 9, tzinfo=dt.UTC)
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            claimed = await claim_summary(
                session,
                arxiv_id=arxiv_id,
                model=model,
                prompt_version=1,
                worker="t",
                now=now,
                lease=dt.timedelta(minutes=5),
                daily_cap=10,
            )
            assert claimed == "claimed"
            await complete_summary(
                session,
                arxiv_id=arxiv_id,
                model=model,
                prompt_version=1,
                worker="t",
                sections=(SummarySection(bullets=("생성된 요약입니다.",)),),
                block="- 생성된 요약입니다.",
                attempts=1,
                prompt_tokens=1,
                completion_tokens=1,
                now=now,
            )
    finally:
        await engine.dispose()


def test_paper_json_shows_a_generated_summary(
    seeded_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A paper without a Korean summary in any digest shows paperboy's, marked `generated:`."""
    asyncio.run(_store_generated(seeded_database_url, "2501.05441", "test-model"))
    assert main(["--db", seeded_database_url, "paper", "2501.05441", "--json"]) == 0
    paper = _json(capsys)
    assert isinstance(paper, dict)
    assert paper["summary"] == [{"title": None, "bullets": ["생성된 요약입니다."]}]
    assert paper["summary_source"] == "generated:test-model"
    assert main(["--db", seeded_database_url, "paper", "2501.05441"]) == 0
    assert "Korean summary (generated:test-model)" in capsys.readouterr().out
