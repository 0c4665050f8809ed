"""Every file of the shared real-digest corpus parses without a single issue."""

from __future__ import annotations

import json
from pathlib import Path

from bot.digest import parse_digest


def test_every_markdown_digest_parses(corpus_dir: Path) -> None:
    """All Markdown days parse: one paper per `### [` line, 2,717 papers, 2,716 distinct ids."""
    files = sorted((corpus_dir / "daily_papers_ko").rglob("*.md"))
    assert len(files) == 205
    total = 0
    ids: set[str] = set()
    for path in files:
        text = path.read_text(encoding="utf-8")
        digest = parse_digest(text, source=str(path))
        assert digest.format == "markdown"
        assert digest.errors == (), path
        headings = sum(1 for line in text.split("\n") if line.startswith("### ["))
        assert len(digest.papers) == headings, path
        assert digest.date.strftime("%Y/%m/%d") == str(path.relative_to(path.parents[2]))[:-3]
        total += len(digest.papers)
        ids.update(paper.arxiv_id for paper in digest.papers)
    assert total == 2717
    assert len(ids) == 2716


def test_every_json_digest_parses(corpus_dir: Path) -> None:
    """All HF JSON days parse, one paper per entry, dated by their file names."""
    files = sorted(corpus_dir.glob("hf_api*/*.json"))
    assert len(files) == 12
    for path in files:
        text = path.read_text(encoding="utf-8")
        digest = parse_digest(text, source=str(path))
        assert digest.format == "hf_json"
        assert digest.errors == (), path
        assert digest.date.isoformat() == path.stem
        document = json.loads(text)
        entries = document["data"] if isinstance(document, dict) else document
        assert len(digest.papers) == (len(entries) if isinstance(entries, list) else 0), path
