"""`paperboy recommend`: a day's papers ranked for the saved ids, as JSON, best first."""

from __future__ import annotations

import json

import pytest

from bot.cli.commands import main


def _last_json(capsys: pytest.CaptureFixture[str]) -> object:
    """The last printed line as JSON."""
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_recommend_json_is_ranked(
    seeded_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON list of {arxiv_id, score}, best first, at most --limit, saved ones left out."""
    args = ["--db", seeded_database_url, "recommend", "--saved", "2401.00908", "--limit", "4"]
    assert main([*args, "--date", "2024-01-03", "--json"]) == 0
    ranked = _last_json(capsys)
    assert isinstance(ranked, list)
    assert 0 < len(ranked) <= 4
    assert all(set(row) == {"arxiv_id", "score"} for row in ranked)
    scores = [row["score"] for row in ranked]
    assert scores == sorted(scores, reverse=True)
    assert "2401.00908" not in {row["arxiv_id"] for row in ranked}


def test_recommend_bad_input(seeded_database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown ids or days exit 1 with a message; junk ids are refused by the parser."""
    db = ["--db", seeded_database_url, "recommend"]
    assert main([*db, "--saved", "2501.99999", "--json"]) == 1
    assert "not in the archive" in capsys.readouterr().err
    assert main([*db, "--saved", "2401.00908", "--date", "1999-01-01"]) == 1
    with pytest.raises(SystemExit):
        main([*db, "--saved", "hello"])
