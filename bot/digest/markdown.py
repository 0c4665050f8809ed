"""Parser for the Korean daily-papers Markdown digests (`## Daily Papers (YYYY-MM-DD)` files).

One pass over the text: heading positions are found with one precompiled regex, then each paper
block is read line by line, dispatching on the line's first characters (no regex storm).

Choices (documented because the format leaves them open):
- Several `## Daily Papers` headings make one digest; a repeated arXiv id keeps the later block,
  at the later block's position.
- A `### ` heading without an `arxiv.org/abs/` link still yields a paper when an id can be
  recovered from another link in the heading (`arxiv.org/pdf/ID`, `huggingface.co/papers/ID`); the
  link is then rebuilt as `https://arxiv.org/abs/ID` and a ParseIssue notes the repair. Otherwise
  the block is skipped with a ParseIssue.
- Any `### ` line ends a block (as does `## `; a tab or no-break space may stand for the space,
  and `###[` counts too); one not starting `### [` is reported as an issue. A block with a second
  `Vote:`/`Authors:` line keeps its first and reports the other (a heading above was not seen).
- Plain bullets, `1) …`/`1. …` lines and other text lines go to a section titled None, numbering
  kept; indented sub-bullets (`  - (1) …`) become their own bullets in the current section.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.digest.models import Digest, DigestError, IssueLog, MediaKind, Paper

# A heading's `#`s may be followed by a tab or a no-break space too (editors and copy-paste
# produce them); a `### [` without any space is still a paper heading.
_HEAD = r"(?:###?[ \t\u00a0]|###\[)"
_BOUNDARY = re.compile(r"\n" + _HEAD)
_STARTS_WITH_HEAD = re.compile(_HEAD)
_DAILY = re.compile(r"^##\s+Daily Papers\s*\(\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*\)")
_HEADING = re.compile(
    r"^###\s+\[(?P<title>.*)\]\(\s*<?https?://(?:www\.)?(?:export\.)?arxiv\.org/abs/"
    r"(?P<id>[^)\s>]+?)>?\s*\)"
)
_ABS_LINK = "](https://arxiv.org/abs/"
_RECOVER = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|huggingface\.co/papers/)"
    r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})"
)
_ARXIV_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7})")
_VERSION = re.compile(r"v\d+$")
_MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")
_SRC = re.compile(r"""src\s*=\s*["']([^"']+)["']""")
_QUOTED = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")
_TRUNCATION_TOKENS = ("+", "…", "...")
_BULLETS = frozenset(("- ", "* ", "+ "))
_MEDIA = ("![", "[Watch Video]", "<")  # `<…>` lines without a src are HTML noise, dropped
_VIDEO_EXT = (".mp4", ".webm", ".mov", ".m4v", ".ogv")
_HF_BASE = "https://huggingface.co"


@dataclass
class _Body:
    """Mutable state while reading one paper block's lines."""

    media_url: str | None = None
    media_kind: MediaKind | None = None
    votes: int | None = None
    authors: tuple[str, ...] = ()
    truncated: bool = False
    sections: list[tuple[str | None, list[str]]] = field(default_factory=list)
    issues: IssueLog = field(default_factory=IssueLog)
    seen: set[str] = field(default_factory=set)  # the `Vote`/`Authors` fields already read


def parse_markdown(text: str, *, source: str) -> Digest:
    """Parse one Markdown digest; raise DigestError only when no digest heading exists.

    Blocks are visited as their boundaries are found and issues past `MAX_ISSUES` are only
    counted, so a file of millions of broken headings costs no memory per line.
    """
    body = text[1:] if text.startswith("\ufeff") else text
    starts = _block_starts(body)
    date: dt.date | None = None
    papers: dict[str, Paper] = {}
    issues = IssueLog()
    line, previous = 1, 0
    start = next(starts, None)
    while start is not None:
        following = next(starts, None)
        line += body.count("\n", previous, start)
        previous = start
        block = body[start : len(body) if following is None else following]
        start = following
        if block[2] != "#":
            date = _read_daily(block, line, date, issues)
            continue
        paper = _read_paper(block, line, issues)
        if paper is not None:
            papers.pop(paper.arxiv_id, None)  # a later block of the same id replaces the earlier
            papers[paper.arxiv_id] = paper
    if date is None:
        raise DigestError("no '## Daily Papers (YYYY-MM-DD)' heading found")
    return Digest(
        date=date,
        source=source,
        format="markdown",
        papers=tuple(papers.values()),
        raw=text,
        errors=issues.issues(),
        dropped_errors=issues.dropped,
    )


def _block_starts(body: str) -> Iterator[int]:
    """The offsets where `## ` and `### ` blocks start, in order."""
    if _STARTS_WITH_HEAD.match(body):
        yield 0
    for match in _BOUNDARY.finditer(body):
        yield match.start() + 1


def _read_daily(block: str, line: int, date: dt.date | None, issues: IssueLog) -> dt.date | None:
    """Read a `## ` heading's date; the first valid one wins, later different ones are noted."""
    match = _DAILY.match(block)
    if match is None:
        return date
    try:
        found = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        issues.add(line, "invalid date in Daily Papers heading")
        return date
    if date is not None and found != date:
        issues.add(line, f"second heading dated {found}, kept {date}")
        return date
    return found


def _read_paper(block: str, line: int, issues: IssueLog) -> Paper | None:
    """Read one `### ` block into a Paper, or record why it cannot be read."""
    lines = block.split("\n")
    heading = lines[0].rstrip()
    if not heading.startswith("### ["):
        heading = "### " + heading[3:].lstrip(" \t\u00a0")
    head = _read_heading(heading, line, issues)
    if head is None:
        return None
    title, arxiv_id = head
    state = _Body(issues=issues)
    _read_body(lines, line, state, start=1)
    # One validation call with plain dicts for the sections: about twice as fast as building
    # each SummarySection separately, which matters at tens of thousands of papers a second.
    return Paper.model_validate(
        {
            "arxiv_id": arxiv_id,
            "title": title,
            "link": f"https://arxiv.org/abs/{arxiv_id}",
            "media_url": state.media_url,
            "media_kind": state.media_kind,
            "votes": state.votes,
            "authors": state.authors,
            "authors_truncated": state.truncated,
            "summary": [{"title": name, "bullets": items} for name, items in state.sections],
            "raw": block,
            "line": line,
        }
    )


def _read_heading(heading: str, line: int, issues: IssueLog) -> tuple[str, str] | None:
    """Return (title, arXiv id) from a `### [title](link)` line, or None with an issue."""
    if "](" not in heading:  # no link at all: the usual shape of damage, so answered first
        issues.add(line, "paper heading has no arXiv link")
        return None
    cut = heading.rfind(_ABS_LINK)
    close = heading.find(")", cut)
    if cut > 4 and close > 0 and heading.startswith("### ["):
        found: tuple[str, str] | None = (heading[5:cut], heading[cut + len(_ABS_LINK) : close])
    else:
        match = _HEADING.match(heading)
        found = (match["title"], match["id"]) if match else None
    if found is not None:
        arxiv_id = _strip_version(found[1].strip().split(" ", 1)[0])
        title = found[0].strip()
        if _ARXIV_ID.fullmatch(arxiv_id) is None:
            issues.add(line, f"unrecognised arXiv id {arxiv_id!r}")
            return None
        if not title:
            issues.add(line, "paper heading has an empty title")
            return None
        return title, arxiv_id
    recovered = _RECOVER.search(heading)
    title_end = heading.rfind("](")
    if recovered is None or not heading.startswith("### [") or title_end <= 5:
        issues.add(line, "paper heading has no arXiv link")
        return None
    arxiv_id = _strip_version(recovered[1])
    issues.add(line, f"no arxiv.org/abs link; id {arxiv_id} recovered")
    return heading[5:title_end].strip(), arxiv_id


def _strip_version(arxiv_id: str) -> str:
    """Drop a `vN` version suffix from an arXiv id."""
    return _VERSION.sub("", arxiv_id) if "v" in arxiv_id else arxiv_id


def _read_body(lines: list[str], first_line: int, state: _Body, *, start: int) -> None:
    """Read a block's lines from `start` on: media, votes, authors and summary bullets."""
    sections = state.sections
    for index in range(start, len(lines)):
        raw_line = lines[index]
        if not raw_line:
            continue
        text = raw_line.rstrip()
        head = text[:2]
        if head in _BULLETS:
            keyed = _split_key(text[2:]) if text[2] in "*_" else None
            if keyed is not None:
                _add_to_section(sections, keyed[0], keyed[1])
            elif sections and sections[-1][0] is None:
                sections[-1][1].append(text[2:].strip())  # the common case, kept inline
            else:
                sections.append((None, [text[2:].strip()]))
        elif not text:
            continue
        elif head[0] in " \t":
            _read_indented(text.lstrip(), sections)
        elif text.startswith(("Vote:", "Authors:")):
            _read_field(text, first_line + index, state)
        elif text.startswith(_MEDIA):
            _read_media(text, state)
        else:
            _add_to_section(sections, None, text)


def _split_key(item: str) -> tuple[str, str] | None:
    """Split `**Key**: text` (or `***Key***:`, `**Key:**`, `__Key__:`) into a key and its text."""
    mark = item[0]
    width = 3 if item.startswith(mark * 3) else 2 if item[1:2] == mark else 1
    close = item.find(mark * width, width)
    if close <= width or close - width > 80:
        return None
    key = item[width:close].strip()
    rest = item[close + width :].strip()
    if key.endswith(":"):
        key = key[:-1].rstrip()
    elif rest.startswith(":"):
        rest = rest[1:].lstrip()
    else:
        return None  # bold text without a colon is a plain bullet
    if not key:
        return None
    return key.replace("\u2019", "'").replace("\u2018", "'"), rest


def _read_indented(text: str, sections: list[tuple[str | None, list[str]]]) -> None:
    """Keep a sub-bullet as its own bullet of the current section; join other indented text."""
    if not sections:
        _add_to_section(sections, None, text[2:].strip() if text[:2] in _BULLETS else text)
    elif text[:2] in _BULLETS:
        sections[-1][1].append(text[2:].strip())
    else:
        bullets = sections[-1][1]
        bullets[-1] = f"{bullets[-1]} {text}"


def _add_to_section(
    sections: list[tuple[str | None, list[str]]], title: str | None, text: str
) -> None:
    """Append a bullet to the last section if it has this title, else open a new section."""
    if sections and sections[-1][0] == title:
        sections[-1][1].append(text)
    else:
        sections.append((title, [text]))


def _read_field(text: str, number: int, state: _Body) -> None:
    """Read a `Vote:` or `Authors:` line; a second one in a block is reported, not used.

    Two in one block mean the heading of the paper they belong to was not recognised (e.g.
    `#### [`): the first values stay with this block's paper, the line says where to look.
    """
    name, _, value = text.partition(":")
    if name in state.seen:
        state.issues.add(
            number,
            f"second '{name}:' line in one paper block (is a paper heading above it damaged?); "
            "ignored",
        )
        return
    state.seen.add(name)
    if name == "Vote":
        _read_vote(value.strip(), number, state)
    else:
        _read_authors(value.strip(), state)


def _read_vote(value: str, number: int, state: _Body) -> None:
    """Read `Vote: N`; `-`, empty or unreadable values stay unknown (None)."""
    cleaned = value.replace(",", "")
    if cleaned.isdigit():
        state.votes = int(cleaned)
    elif cleaned not in ("", "-", "?", "N/A"):
        state.issues.add(number, f"unreadable vote {value[:40]!r}")


def _read_authors(value: str, state: _Body) -> None:
    """Read a comma list or a Python list literal of names; `+` marks a truncated list."""
    if value.startswith("["):
        names = [_unquote(single, double).strip() for single, double in _QUOTED.findall(value)]
    else:
        names = [name.strip() for name in value.split(",")]
    kept = dict.fromkeys(names)
    kept.pop("", None)
    for token in _TRUNCATION_TOKENS:
        if token in kept:
            del kept[token]
            state.truncated = True
    state.authors = tuple(kept)


def _unquote(single: str, double: str) -> str:
    """Decode one quoted name of a list literal; escapes go through ast.literal_eval."""
    quote, inner = ("'", single) if single or not double else ('"', double)
    if "\\" not in inner:
        return inner
    try:
        value = ast.literal_eval(quote + inner + quote)
    except (ValueError, SyntaxError):
        return inner
    return value if isinstance(value, str) else inner


def _read_media(text: str, state: _Body) -> None:
    """Read an image or video line; the first media line of a block wins."""
    if state.media_url is not None:
        return
    kind: MediaKind = "video"
    if text.startswith("!["):
        found = _MD_LINK.search(text)
        url = found[1] if found else ""
        kind = "video" if url.lower().endswith(_VIDEO_EXT) else "image"
    elif text.startswith("[Watch Video]"):
        rest = text[13:].strip()
        url = rest[1:].split(")", 1)[0].strip() if rest.startswith("(") else rest
    else:
        found = _SRC.search(text)
        url = found[1] if found else ""
    _set_media(state, url.split(" ", 1)[0] if url else "", kind)


def _set_media(state: _Body, url: str, kind: MediaKind) -> None:
    """Store a media URL, made absolute (`/avatars/…` → `https://huggingface.co/avatars/…`)."""
    if not url:
        return
    if url.startswith("//"):
        url = "https:" + url
    elif url.startswith("/"):
        url = _HF_BASE + url
    state.media_url = url
    state.media_kind = kind
