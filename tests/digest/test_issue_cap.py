"""A damaged file keeps the first `MAX_ISSUES` parse issues and counts the rest."""

from __future__ import annotations

import json

from bot.digest import parse_hf_json, parse_markdown
from bot.digest.models import MAX_ISSUES

HEADING = "## Daily Papers (2024-01-03)\n"
GOOD = "### [A paper](https://arxiv.org/abs/2401.00001)\nVote: 3\n\n- a bullet\n"


def test_markdown_keeps_the_first_issues_and_counts_the_rest() -> None:
    """Five hundred broken headings give 100 issues, then one `… and 400 more` on line 102."""
    digest = parse_markdown(HEADING + GOOD + "### [\n" * 500, source="damaged.md")
    assert len(digest.errors) == MAX_ISSUES + 1
    assert digest.errors[0].line == 6
    assert digest.errors[-1].message == "… and 400 more"
    assert digest.errors[-1].line == 6 + MAX_ISSUES
    assert (digest.error_count, digest.dropped_errors, len(digest.papers)) == (500, 400, 1)
    assert digest.mostly_damage


def test_a_few_issues_are_kept_whole_and_are_not_damage() -> None:
    """Below the cap every issue is kept, and a few errors beside papers are not damage."""
    digest = parse_markdown(HEADING + GOOD + "### [\n" * 3, source="few.md")
    assert [issue.message for issue in digest.errors] == ["paper heading has no arXiv link"] * 3
    assert (digest.error_count, digest.dropped_errors) == (3, 0)
    assert not digest.mostly_damage


def test_hf_json_caps_its_issues_too() -> None:
    """A list of 300 entries that are not objects keeps 100 issues and counts 200 more."""
    entry = {"paper": {"id": "2401.00001", "title": "A paper"}}
    text = json.dumps([entry, *range(300)])
    digest = parse_hf_json(text, source="2024-01-03.json")
    assert len(digest.errors) == MAX_ISSUES + 1
    assert digest.errors[-1].message == "… and 200 more"
    assert digest.error_count == 300
