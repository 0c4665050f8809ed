"""Property tests: damaged digests raise nothing but DigestError, and undamaged papers survive."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digest import Digest, DigestError, Paper, parse_digest, parse_hf_json, parse_markdown

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MARKDOWN_DAYS = ("2024/10/18", "2023/11/22", "2024/03/01", "2023/11/20")
SOURCES = {
    day: (FIXTURES / "daily_papers_ko" / f"{day}.md").read_text(encoding="utf-8")
    for day in MARKDOWN_DAYS
}
ORIGINALS = {day: parse_markdown(text, source="fuzz.md") for day, text in SOURCES.items()}
JSON_TEXTS = tuple(
    (FIXTURES / name).read_text(encoding="utf-8")
    for name in ("hf_api/2024-12-16.json", "hf_api_b/2025-01-10.json", "hf_api_b/2024-05-27.json")
)
FRAGMENTS = (
    "### [",
    "### [Junk](https://arxiv.org/abs/9912.00001)",
    "### [Junk [x]](https://arxiv.org/abs/9912.00002v3",
    "### no link",
    "## Daily Papers (2024-13-45)",
    "## Daily Papers (1999-01-01)",
    "## Other",
    "Vote: ",
    "Vote: x1",
    "Authors: ['a', \"b",
    "Authors: +, +",
    "- ***",
    "- **K**:",
    "- **:**",
    "  - ",
    "1) ",
    "<video src='",
    "<div>",
    "![](",
    "![](/",
    "[Watch Video]",
    "[Watch Video](",
    "\t",
    "\r",
    "\x00",
    "\ufeff",
)
junk_lines = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), min_size=1, max_size=5
)


def _parse(text: str) -> Digest | None:
    """Parse damaged Markdown; DigestError is the one allowed failure."""
    try:
        return parse_markdown(text, source="fuzz.md")
    except DigestError:
        return None


def _intact_before(text: str, digest: Digest, damage: int) -> list[Paper]:
    """Papers whose block and the following heading line end before the damage offset."""
    kept = []
    position = 0
    for paper in digest.papers:
        start = text.index(paper.raw, position)
        end = start + len(paper.raw)
        next_line_end = text.find("\n", end)
        if next_line_end != -1 and next_line_end < damage:
            kept.append(paper)
        position = end
    return kept


def _check(day: str, damaged: str, damage: int) -> None:
    """Assert the damaged text parses (or raises DigestError) and early papers are identical."""
    digest = _parse(damaged)
    if digest is None:
        return
    original, before = SOURCES[day], ORIGINALS[day]
    found = {paper.arxiv_id: paper for paper in digest.papers}
    for paper in _intact_before(original, before, damage):
        assert found.get(paper.arxiv_id) == paper


@settings(max_examples=200, deadline=None)
@given(day=st.sampled_from(MARKDOWN_DAYS), cut=st.floats(min_value=0, max_value=1))
def test_truncated_markdown(day: str, cut: float) -> None:
    """Truncating at any offset keeps every paper whose block ends before the cut."""
    text = SOURCES[day]
    offset = int(cut * len(text))
    _check(day, text[:offset], offset)


@settings(max_examples=200, deadline=None)
@given(day=st.sampled_from(MARKDOWN_DAYS), where=st.floats(0, 1), junk=junk_lines)
def test_inserted_junk_lines(day: str, where: float, junk: list[str]) -> None:
    """Junk lines inserted anywhere leave the earlier papers untouched."""
    lines = SOURCES[day].split("\n")
    index = int(where * len(lines))
    damaged = "\n".join(lines[:index] + junk + lines[index:])
    _check(day, damaged, len("\n".join(lines[:index])))


@settings(max_examples=200, deadline=None)
@given(day=st.sampled_from(MARKDOWN_DAYS), where=st.floats(0, 1), count=st.integers(1, 6))
def test_deleted_lines(day: str, where: float, count: int) -> None:
    """Deleting lines anywhere leaves the earlier papers untouched."""
    lines = SOURCES[day].split("\n")
    index = int(where * len(lines))
    damaged = "\n".join(lines[:index] + lines[index + count :])
    _check(day, damaged, len("\n".join(lines[:index])))


@settings(max_examples=200, deadline=None)
@given(
    day=st.sampled_from(MARKDOWN_DAYS),
    where=st.floats(0, 1),
    junk=st.text(min_size=1, max_size=30),
)
def test_spliced_characters(day: str, where: float, junk: str) -> None:
    """Random characters spliced mid-line only affect the paper they land in and later ones."""
    text = SOURCES[day]
    offset = int(where * len(text))
    _check(day, text[:offset] + junk + text[offset:], offset)


@settings(max_examples=200, deadline=None)
@given(
    which=st.integers(0, len(JSON_TEXTS) - 1),
    cut=st.floats(0, 1),
    junk=st.text(max_size=20),
)
def test_damaged_json_raises_only_digest_error(which: int, cut: float, junk: str) -> None:
    """Truncated or spliced JSON either parses or raises DigestError, through both entry points."""
    text = JSON_TEXTS[which]
    offset = int(cut * len(text))
    for damaged in (text[:offset], text[:offset] + junk + text[offset:]):
        for parse in (parse_hf_json, parse_digest):
            with contextlib.suppress(DigestError):
                parse(damaged, source="2025-01-02.json")


@settings(max_examples=100, deadline=None)
@given(which=st.integers(0, 1), data=st.data())
def test_damaged_literal_strings_are_issues(which: int, data: st.DataObject) -> None:
    """A damaged Python-literal entry becomes a ParseIssue while the others still parse."""
    entries = json.loads(JSON_TEXTS[which])
    if isinstance(entries, dict):
        entries = entries["data"]
    index = data.draw(st.integers(0, len(entries) - 1))
    cut = data.draw(st.integers(0, len(entries[index]) - 1))
    entries[index] = entries[index][:cut]
    digest = parse_hf_json(json.dumps(entries), source="2025-01-02.json")
    assert len(digest.papers) + len(digest.errors) == len(entries)
    assert len(digest.papers) >= len(entries) - 1


names = st.text(min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    title=names,
    authors=st.lists(st.tuples(names, st.booleans()), max_size=5),
    votes=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_python_literal_entries_read_like_literal_eval(
    title: str, authors: list[tuple[str, bool]], votes: int | None
) -> None:
    """Entries written with repr() (quotes, backslashes, `None` in text) decode exactly."""
    entry = {
        "paper": {
            "id": "2501.00001",
            "title": title,
            "upvotes": votes,
            "authors": [{"name": name, "hidden": hidden, "x": None} for name, hidden in authors],
        },
        "flag": True,
    }
    digest = parse_hf_json(json.dumps([repr(entry)]), source="2025-01-02.json")
    expected_title = " ".join(title.split())
    if not expected_title:
        assert len(digest.errors) == 1
        return
    paper = digest.papers[0]
    assert paper.title == expected_title
    assert paper.votes == votes
    visible = [" ".join(name.split()) for name, hidden in authors if not hidden]
    assert paper.authors == tuple(dict.fromkeys(name for name in visible if name))
    assert paper.raw == repr(entry)
