"""The digest data model shared by both parsers, the archive and rendering (pure, frozen)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

MediaKind = Literal["image", "video"]
SourceFormat = Literal["markdown", "hf_json"]


class DigestError(Exception):
    """Raised when a digest cannot be read at all (no paper can be recovered)."""

    def __init__(self, message: str, *, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SummarySection(_Frozen):
    """One titled part of a summary (`What's New`, …); title None for plain bullets."""

    title: str | None = None
    bullets: tuple[str, ...] = ()


class Paper(_Frozen):
    """One paper as a digest presents it on one day."""

    arxiv_id: str
    title: str
    link: str
    media_url: str | None = None
    media_kind: MediaKind | None = None
    votes: int | None = None  # None: unknown (`Vote: -` or no vote line), never 0
    authors: tuple[str, ...] = ()
    authors_truncated: bool = False
    summary: tuple[SummarySection, ...] = ()
    abstract: str | None = None  # only JSON sources carry one
    # From the HF list (None/empty where a source lacks them): its one-line TL;DR and keywords,
    # code, project page, discussion, and who put the paper on the list.
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    num_comments: int | None = None
    submitter: str | None = None
    organization: str | None = None
    # Where `summary` came from when read back from the archive: "daily_papers_ko" (a Markdown
    # digest), "generated:<model>" (paperboy's summarizer), None (no Korean summary).
    summary_source: str | None = None
    raw: str = ""  # the paper's original block of text
    line: int = 0  # 1-based line of the block's first line in the source


class ParseIssue(_Frozen):
    """A paper (or a part of the file) that could not be parsed."""

    line: int
    message: str


MAX_ISSUES = 100  # issues kept per digest: a damaged file must not cost memory per line
DAMAGE_MIN_ERRORS = 10  # "mostly damage" takes more errors than this, and more than papers


class IssueLog:
    """A digest's parse issues while parsing: the first `MAX_ISSUES` kept, the rest counted."""

    __slots__ = ("dropped", "first_dropped", "kept")

    def __init__(self) -> None:
        """Start empty."""
        self.kept: list[ParseIssue] = []
        self.dropped = 0
        self.first_dropped = 0  # the line of the first issue not kept

    def add(self, line: int, message: str) -> None:
        """Record an issue; past the cap only its count (and the first one's line) is kept."""
        if len(self.kept) < MAX_ISSUES:
            self.kept.append(ParseIssue(line=line, message=message))
        else:
            self.first_dropped = self.first_dropped or line
            self.dropped += 1

    def __len__(self) -> int:
        """Every issue recorded, kept or not."""
        return len(self.kept) + self.dropped

    def issues(self) -> tuple[ParseIssue, ...]:
        """The kept issues, then one `… and N more` issue if any were dropped."""
        if not self.dropped:
            return tuple(self.kept)
        more = ParseIssue(line=self.first_dropped, message=f"… and {self.dropped} more")
        return (*self.kept, more)


class Digest(_Frozen):
    """A day's digest: its papers in file order, the raw text, and what could not be parsed."""

    date: dt.date
    source: str
    format: SourceFormat
    papers: tuple[Paper, ...] = ()
    raw: str = ""
    errors: tuple[ParseIssue, ...] = ()  # at most MAX_ISSUES, then one `… and N more`
    dropped_errors: int = 0  # the N of that last issue: errors counted but not kept

    @property
    def error_count(self) -> int:
        """How many issues the parser found, kept or not."""
        return (
            len(self.errors) - 1 + self.dropped_errors if self.dropped_errors else len(self.errors)
        )

    @property
    def mostly_damage(self) -> bool:
        """More errors than papers, and more than a few: not worth storing as the day."""
        errors = self.error_count
        return errors > DAMAGE_MIN_ERRORS and errors > len(self.papers)
