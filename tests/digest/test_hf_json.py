"""The HF daily-papers JSON parser on real API responses (verbatim fixtures) and its variants."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.digest import Digest, DigestError, parse_hf_json


def _load(fixtures_dir: Path, name: str, *, source: str | None = None) -> Digest:
    """Parse one JSON fixture, by default with its own path as the source."""
    path = fixtures_dir / name
    return parse_hf_json(path.read_text(encoding="utf-8"), source=source or str(path))


def test_list_of_objects(fixtures_dir: Path) -> None:
    """A plain JSON list of entries yields every paper with its fields mapped."""
    digest = _load(fixtures_dir, "hf_api_b/2024-10-18.json")
    assert digest.format == "hf_json"
    assert digest.date == dt.date(2024, 10, 18)
    assert len(digest.papers) == 31
    assert not digest.errors
    paper = digest.papers[0]
    assert paper.arxiv_id == "2410.13754"
    assert paper.title == "MixEval-X: Any-to-Any Evaluations from Real-World Data Mixtures"
    assert paper.link == "https://arxiv.org/abs/2410.13754"
    assert paper.votes == 48
    assert paper.authors[:2] == ("Jinjie Ni", "Yifan Song")
    assert paper.summary == ()
    assert paper.abstract is not None
    assert paper.abstract.startswith("Perceiving and generating")
    assert paper.media_url == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2410.13754.png"
    )
    assert json.loads(paper.raw)["paper"]["id"] == "2410.13754"
    assert paper.line > 1


def test_hard_line_wraps_are_joined(fixtures_dir: Path) -> None:
    """Titles and abstracts lose the API's hard line wraps."""
    digest = _load(fixtures_dir, "hf_api_b/2024-05-27.json")
    paper = digest.papers[0]
    assert paper.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert all("\n" not in p.title and "  " not in p.title for p in digest.papers)
    assert paper.abstract is not None
    assert "\n" not in paper.abstract
    assert "Models (LMMs) encounter the challenges of excessive" in paper.abstract


def test_media_url_key_without_thumbnail(fixtures_dir: Path) -> None:
    """Older entries carry `mediaUrl` instead of `thumbnail`; it becomes the media URL."""
    paper = _load(fixtures_dir, "hf_api_b/2024-05-27.json").papers[0]
    assert paper.media_kind == "image"
    assert paper.media_url == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2405.15738.png"
    )


def test_list_of_python_literal_strings(fixtures_dir: Path) -> None:
    """A list of Python dict literals as strings (hf_api/) parses like objects."""
    digest = _load(fixtures_dir, "hf_api/2024-12-16.json")
    assert len(digest.papers) == 18
    assert not digest.errors
    paper = digest.papers[0]
    assert (paper.arxiv_id, paper.votes) == ("2412.10360", 107)
    assert paper.authors[:2] == ("Orr Zohar", "Xiaohan Wang")


def test_hidden_authors_stay_out(fixtures_dir: Path) -> None:
    """Authors with `hidden: true` are not listed (hf_api_b/2024-12-12, literal strings)."""
    digest = _load(fixtures_dir, "hf_api_b/2024-12-12.json")
    assert len(digest.papers) == 18
    paper = next(p for p in digest.papers if p.arxiv_id == "2412.07760")
    assert len(paper.authors) == 8
    assert "Di Zhang" not in paper.authors
    assert paper.title.endswith("from Diverse Viewpoints")  # paper.title, not the cut entry title


def test_envelope(fixtures_dir: Path) -> None:
    """The `{status, date, count, data}` envelope yields its papers and its date."""
    digest = _load(fixtures_dir, "hf_api_b/2025-01-10.json", source="upload.json")
    assert digest.date == dt.date(2025, 1, 10)
    assert len(digest.papers) == 9
    assert digest.papers[0].arxiv_id == "2501.05441"


def test_bare_number_is_an_empty_day(fixtures_dir: Path) -> None:
    """The bare `1` file is an empty digest dated from its file name."""
    digest = _load(fixtures_dir, "hf_api/2024-12-21.json")
    assert digest.papers == ()
    assert digest.errors == ()
    assert digest.date == dt.date(2024, 12, 21)
    with pytest.raises(DigestError):
        parse_hf_json("1", source="no-date.json")


def test_date_precedence(fixtures_dir: Path) -> None:
    """The date argument wins, then the file name, then the latest `publishedAt`."""
    text = (fixtures_dir / "hf_api/2024-12-16.json").read_text(encoding="utf-8")
    given = parse_hf_json(text, source="2024-12-16.json", date=dt.date(2024, 12, 17))
    assert given.date == dt.date(2024, 12, 17)
    assert parse_hf_json(text, source="a/2024-12-16.json").date == dt.date(2024, 12, 16)
    assert parse_hf_json(text, source="upload").date == dt.date(2024, 12, 16)


def test_damaged_entries_become_issues() -> None:
    """Entries without an id, without a title or unreadable are issues; the rest parse."""
    entries = [
        {"paper": {"title": "no id"}},
        {"paper": {"id": "2501.00001", "title": "Fine\n  title", "upvotes": 3, "authors": []}},
        "{'paper': {'id': ",
        {"paper": {"id": "2501.00002"}},
        {"paper": {"id": "2501.00003v2", "title": "T", "authors": [{"name": "A", "hidden": True}]}},
    ]
    text = json.dumps(entries, indent=1)
    digest = parse_hf_json(text, source="2025-01-02.json")
    assert [paper.arxiv_id for paper in digest.papers] == ["2501.00001", "2501.00003"]
    assert digest.papers[0].title == "Fine title"
    assert digest.papers[0].votes == 3
    assert digest.papers[1].authors == ()
    assert digest.papers[1].votes is None
    assert len(digest.errors) == 3


@pytest.mark.parametrize("text", ["", "[", '{"status": "error"}', "null", '"text"', "true"])
def test_unreadable_json_is_a_digest_error(text: str) -> None:
    """Invalid JSON, or JSON without a list of papers, is a DigestError."""
    with pytest.raises(DigestError):
        parse_hf_json(text, source="2025-01-02.json")


def test_hf_metadata_is_kept_and_nulls_are_unknowns() -> None:
    """ai_summary, keywords, code, page, comments, submitter and organization are kept; nulls,
    junk types and non-http links read as unknown, never as text."""
    full = {
        "paper": {
            "id": "2608.19880",
            "title": "EnvHarness",
            "upvotes": 163,
            "ai_summary": "Reshapes  static\nenvironments.",
            "ai_keywords": ["LLM agents", "LLM agents", "", 7],
            "githubRepo": "https://github.com/x/envharness",
            "githubStars": 8,
            "projectPage": "javascript:alert(1)",
            "organization": {"name": "google", "fullname": "Google"},
        },
        "numComments": 1,
        "submittedBy": {"name": "taesiri", "fullname": "taesiri"},
    }
    nulls = {
        "paper": {
            "id": "2608.19881",
            "title": "Nulls",
            "upvotes": None,
            "authors": None,
            "ai_summary": None,
            "ai_keywords": None,
            "githubRepo": None,
            "githubStars": True,
            "organization": None,
        },
        "numComments": -3,
        "submittedBy": None,
    }
    digest = parse_hf_json(json.dumps([full, nulls]), source="x", date=dt.date(2026, 8, 21))
    kept, empty = digest.papers
    assert kept.ai_summary == "Reshapes static environments."
    assert kept.ai_keywords == ("LLM agents",)
    assert (kept.github_repo, kept.github_stars) == ("https://github.com/x/envharness", 8)
    assert kept.project_page is None  # only http(s) links ever reach a chat
    assert (kept.num_comments, kept.submitter, kept.organization) == (1, "taesiri", "Google")
    assert (empty.votes, empty.authors, empty.ai_summary, empty.ai_keywords) == (None, (), None, ())
    assert (empty.github_stars, empty.num_comments, empty.submitter) == (None, None, None)
    assert digest.errors == ()


def test_a_list_of_100k_entries_parses() -> None:
    """A huge list (100,000 entries, duplicates included) parses whole, the last copy winning."""
    entries = [
        {"paper": {"id": f"2501.{number % 90000:05d}", "title": f"T{number}", "upvotes": number}}
        for number in range(100_000)
    ]
    digest = parse_hf_json(json.dumps(entries), source="x", date=dt.date(2025, 1, 10))
    assert len(digest.papers) == 90_000
    assert {paper.arxiv_id: paper.votes for paper in digest.papers}["2501.00001"] == 90_001
