"""Dispatch between the Markdown and JSON parsers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.digest import DigestError, parse_digest


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("daily_papers_ko/2024/01/03.md", "markdown"),
        ("hf_api_b/2024-10-18.json", "hf_json"),
        ("hf_api/2024-12-16.json", "hf_json"),
        ("hf_api_b/2025-01-10.json", "hf_json"),
        ("hf_api/2024-12-21.json", "hf_json"),
    ],
)
def test_picks_the_parser_by_content(fixtures_dir: Path, name: str, expected: str) -> None:
    """Each real fixture goes to its parser even under a source name that says nothing."""
    text = (fixtures_dir / name).read_text(encoding="utf-8")
    source = "upload" if not name.endswith("21.json") else "2024-12-21"
    assert parse_digest(text, source=name).format == expected
    if not name.endswith("21.json"):
        assert parse_digest(text, source=source).format == expected


def test_extension_decides_when_content_is_ambiguous() -> None:
    """Text that is neither JSON-looking nor a Markdown heading follows the extension."""
    with pytest.raises(DigestError, match="invalid JSON"):
        parse_digest("  oops", source="2025-01-02.json")
    with pytest.raises(DigestError, match="Daily Papers"):
        parse_digest("  oops", source="2025/01/02.md")
