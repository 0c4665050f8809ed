"""Parser for the Hugging Face daily-papers API JSON (`/api/daily_papers?date=…`) and its variants.

Accepted shapes: a JSON list of entries, a list of Python-literal strings (read with
`ast.literal_eval`, never `eval`), the `{status, date, count, data: […]}` envelope, and a bare
number (an empty day). The digest date comes from the `date` argument, else the envelope's
`date`, else a `YYYY-MM-DD.json` file name in `source`, else the latest entry `publishedAt`: the
file name is preferred over `publishedAt` because that is when a paper was submitted, often the
day before. A list damaged part-way keeps its readable leading entries (plus a ParseIssue); an
entry's `raw` is its original text (the literal string, or the JSON slice).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

from bot.digest.models import Digest, DigestError, IssueLog, MediaKind, Paper

_FILE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.json$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_WHITESPACE = re.compile(r"\s*")
_NOT_JSON_SAFE = re.compile(r"\\[^ntrubf]")  # an escape JSON lacks (escaped backslashes removed)
_VIDEO_EXT = (".mp4", ".webm", ".mov", ".m4v", ".ogv")


@dataclass(frozen=True, slots=True)
class _Item:
    """One element of the entry list: its value, original text (if known) and first line."""

    value: object
    raw: str | None
    line: int


def parse_hf_json(text: str, *, source: str, date: dt.date | None = None) -> Digest:
    """Parse one HF daily-papers JSON document; raise DigestError only if nothing can be read."""
    body = text.lstrip("\ufeff")
    issues = IssueLog()
    if body.lstrip().startswith("["):
        items, envelope_date = _read_list(body, issues), None
    else:
        items, envelope_date = _read_document(body)
    papers: dict[str, Paper] = {}
    latest: dt.date | None = None
    for index, item in enumerate(items):
        entry, raw = _entry(item)
        if entry is None:
            issues.add(item.line, f"entry {index + 1} is not an object")
            continue
        submitted = _submission_date(entry)
        if submitted is not None and (latest is None or submitted > latest):
            latest = submitted
        paper = _paper(entry, raw, item.line, issues)
        if paper is not None:
            papers.pop(paper.arxiv_id, None)
            papers[paper.arxiv_id] = paper
    day = date or envelope_date or _date_from_source(source) or latest
    if day is None:
        raise DigestError("no date: pass one, or name the file YYYY-MM-DD.json")
    return Digest(
        date=day,
        source=source,
        format="hf_json",
        papers=tuple(papers.values()),
        raw=text,
        errors=issues.issues(),
        dropped_errors=issues.dropped,
    )


def _read_list(body: str, issues: IssueLog) -> list[_Item]:
    """Decode a top-level list element by element, keeping each one's text and line.

    A list damaged part-way keeps the elements before the damage (with a ParseIssue); only a
    list with no readable element at all is a DigestError.
    """
    decoder = json.JSONDecoder()
    items: list[_Item] = []
    position = _skip_space(body, body.index("[") + 1)
    line, counted = 1, 0
    while position < len(body) and body[position] != "]":
        line += body.count("\n", counted, position)
        counted = position
        try:
            value, end = decoder.raw_decode(body, position)
        except (ValueError, RecursionError) as exc:
            issues.add(line, f"invalid JSON: {exc}")
            break
        items.append(_Item(value=value, raw=body[position:end], line=line))
        position = _skip_space(body, end)
        if body.startswith(",", position):
            position = _skip_space(body, position + 1)
        elif not body.startswith("]", position):
            issues.add(line, "JSON list ends early")
            break
    else:
        if position >= len(body):
            issues.add(line, "JSON list ends early")
    if issues and not items:
        first = issues.kept[0]
        raise DigestError(f"invalid JSON: {first.message}", line=first.line)
    return items


def _skip_space(text: str, position: int) -> int:
    """Return the first offset at or after `position` that is not whitespace."""
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position


def _read_document(body: str) -> tuple[list[_Item], dt.date | None]:
    """Decode a whole non-list document: the envelope, a bare number or a single entry."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise DigestError(f"invalid JSON: {exc}") from exc
    if isinstance(document, bool) or document is None:
        raise DigestError("JSON holds no digest")
    if isinstance(document, int | float):
        return [], None  # the API's bare `1`: a day without data
    if isinstance(document, dict):
        data = document.get("data")
        if isinstance(data, list):
            return [_Item(value, None, 1) for value in data], _parse_date(document.get("date"))
        if "paper" in document or "id" in document:
            return [_Item(document, None, 1)], None
    raise DigestError("JSON holds no list of papers")


def _entry(item: _Item) -> tuple[dict[str, Any] | None, str]:
    """Return an entry as a dict and its original text; strings hold Python literals."""
    value = item.value
    if isinstance(value, str):
        raw = value
        value = _decode_string(value)
    else:
        raw = item.raw or json.dumps(value, ensure_ascii=False, default=str)
    return (value if isinstance(value, dict) else None), raw


def _decode_string(text: str) -> object:
    """Decode a Python dict literal (never with eval); None if it is not one."""
    fast = _literal_as_json(text)
    if fast is not None:
        return fast
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))  # bad escapes
            return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        return json.loads(text)  # some producers wrote JSON, not Python, into the strings
    except (ValueError, RecursionError):
        return None


def _literal_as_json(text: str) -> object:
    """Decode a `repr()`-style literal through the JSON decoder, several times faster.

    When no escape reads differently in JSON, every `'` delimits a string until the first
    double-quoted string, whose opening `"` then lands between strings: such texts, and any JSON
    failure, return None and go to ast.literal_eval. True/False/None are only rewritten between
    strings, and a `"` inside a single-quoted string is escaped.
    """
    if _NOT_JSON_SAFE.search(text.replace("\\\\", "")) is not None:
        return None
    parts = text.split("'")
    between = parts[0::2]
    if '"' in text:
        if any('"' in part for part in between):
            return None
        parts[1::2] = [part.replace('"', '\\"') for part in parts[1::2]]
    # Between strings there is only punctuation, numbers and the three constants.
    parts[0::2] = [
        part.replace("True", "true").replace("False", "false").replace("None", "null")
        if "e" in part
        else part
        for part in between
    ]
    try:
        return json.loads('"'.join(parts))
    except (ValueError, RecursionError):
        return None


def _paper_of(entry: dict[str, Any]) -> dict[str, Any]:
    """Return the entry's `paper` object (older or hand-made lists may be flat)."""
    paper = entry.get("paper")
    return paper if isinstance(paper, dict) else entry


def _paper(entry: dict[str, Any], raw: str, line: int, issues: IssueLog) -> Paper | None:
    """Build a Paper from one entry, or record why it cannot be built."""
    paper = _paper_of(entry)
    raw_id = paper.get("id")
    match = _ARXIV_ID.match(raw_id.strip()) if isinstance(raw_id, str) else None
    if match is None:
        issues.add(line, f"entry without a valid paper id: {raw_id!r}")
        return None
    arxiv_id = match[1]
    title = _one_line(paper.get("title")) or _one_line(entry.get("title"))
    if not title:
        issues.add(line, f"paper {arxiv_id} has no title")
        return None
    media_url, media_kind = _media(entry)
    votes = paper.get("upvotes")
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        link=f"https://arxiv.org/abs/{arxiv_id}",
        media_url=media_url,
        media_kind=media_kind,
        votes=votes if isinstance(votes, int) and not isinstance(votes, bool) else None,
        authors=_authors(paper.get("authors")),
        abstract=_paragraphs(paper.get("summary")) or None,
        ai_summary=_one_line(paper.get("ai_summary")) or None,
        ai_keywords=_keywords(paper.get("ai_keywords")),
        github_repo=_url(paper.get("githubRepo")),
        github_stars=_count(paper.get("githubStars")),
        project_page=_url(paper.get("projectPage")),
        num_comments=_count(entry.get("numComments")),
        submitter=_name(entry.get("submittedBy")) or _name(paper.get("submittedOnDailyBy")),
        organization=_name(paper.get("organization"), "fullname")
        or _name(entry.get("organization"), "fullname"),
        raw=raw,
        line=line,
    )


def _count(value: object) -> int | None:
    """A non-negative integer count, else None (booleans and junk are not counts)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _url(value: object) -> str | None:
    """An http(s) URL, else None: the list is someone else's data and ends up in a link."""
    text = value.strip() if isinstance(value, str) else ""
    return text if text.startswith(("https://", "http://")) and " " not in text else None


def _name(value: object, *keys: str) -> str | None:
    """A user's or organization's display name (`keys` first, then `name`), else None."""
    if not isinstance(value, dict):
        return None
    for key in (*keys, "name"):
        text = _one_line(value.get(key))
        if text:
            return text
    return None


def _keywords(value: object) -> tuple[str, ...]:
    """The list's AI keywords, one line each, without duplicates or blanks."""
    if not isinstance(value, list):
        return ()
    words = (_one_line(word) for word in value if isinstance(word, str))
    return tuple(dict.fromkeys(word for word in words if word))


def _authors(value: object) -> tuple[str, ...]:
    """Return the visible author names in order, without duplicates."""
    if not isinstance(value, list):
        return ()
    names: dict[str, None] = {}
    for author in value:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and not (isinstance(author, dict) and author.get("hidden")):
            name = " ".join(name.split())
            if name:
                names[name] = None
    return tuple(names)


def _media(entry: dict[str, Any]) -> tuple[str | None, MediaKind | None]:
    """Return the thumbnail (or the first media URL) and its kind."""
    candidates: list[object] = [entry.get("thumbnail"), entry.get("mediaUrl")]
    media_urls = entry.get("mediaUrls")
    if isinstance(media_urls, list):
        candidates.extend(media_urls)
    for url in candidates:
        if isinstance(url, str) and url.strip():
            url = url.strip()
            if url.startswith("/"):
                url = "https://huggingface.co" + url
            return url, "video" if url.lower().endswith(_VIDEO_EXT) else "image"
    return None, None


def _one_line(value: object) -> str:
    """Join hard-wrapped text into one line."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _paragraphs(value: object) -> str:
    """Join hard line wraps; paragraph breaks (blank lines) become one newline."""
    if not isinstance(value, str):
        return ""
    parts = (" ".join(part.split()) for part in _PARAGRAPH.split(value))
    return "\n".join(part for part in parts if part)


def _parse_date(value: object) -> dt.date | None:
    """Read the date part of an ISO date or timestamp string."""
    match = _ISO_DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _date_from_source(source: str) -> dt.date | None:
    """Read the date from a `YYYY-MM-DD.json` file name."""
    match = _FILE_DATE.search(source)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _submission_date(entry: dict[str, Any]) -> dt.date | None:
    """Return the day an entry was submitted (entry `publishedAt`, else the paper's)."""
    return _parse_date(entry.get("publishedAt")) or _parse_date(_paper_of(entry).get("publishedAt"))
