"""`paperboy export`: archived days written back as the daily_papers_ko seed's Markdown.

A day that came from a Markdown digest is written byte for byte from its stored raw text (the
latest Markdown revision, even when an HF list of the same day is newer); any other day is
rendered from its papers by `bot.render.seed`, in a form the Markdown parser reads back.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.progress import ProgressBar
from bot.config import Settings
from bot.render.seed import render_seed_digest
from storage.db import create_engine, session_factory, upgrade
from storage.papers import DigestInfo, day_papers, digest_for_date, digest_text, latest_digest


@dataclass(frozen=True, slots=True)
class ExportedDay:
    """One day's seed Markdown and whether it is the stored text itself."""

    date: dt.date
    text: str
    verbatim: bool


@dataclass(slots=True)
class TreeReport:
    """Totals of `export --since --dir` (its `--json` line)."""

    days: int = 0
    files: int = 0
    markdown_verbatim: int = 0
    generated: int = 0

    def as_json(self) -> dict[str, int]:
        """The `--json` object."""
        return {
            "days": self.days,
            "files": self.files,
            "markdown_verbatim": self.markdown_verbatim,
            "generated": self.generated,
        }


class ExportError(Exception):
    """A day or a path that cannot be exported; the message is one line for the user."""


def iso_date(value: str) -> dt.date:
    """An argparse type: a `YYYY-MM-DD` date, or a clear usage error."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value[:40]!r}") from None


def configure_export(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy export`."""
    parser.add_argument("date", nargs="?", type=iso_date, metavar="DATE", help="one day")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write DATE here (default stdout)")
    parser.add_argument("--since", type=iso_date, metavar="DATE", help="every day from DATE on")
    parser.add_argument(
        "--dir", type=Path, metavar="DIR", help="with --since: a YYYY/MM/DD.md tree"
    )
    parser.add_argument("--json", action="store_true", help="with --dir: a JSON summary last")


async def _day(session: AsyncSession, info: DigestInfo) -> ExportedDay:
    """A stored day as seed Markdown: its Markdown text verbatim, else rendered from papers."""
    if info.format == "markdown":
        text = await digest_text(session, digest_id=info.id)
        if text is not None:
            return ExportedDay(info.date, text, verbatim=True)
    papers = await day_papers(session, date=info.date)  # generated summaries included
    return ExportedDay(info.date, render_seed_digest(info.date, papers), verbatim=False)


async def export_day(url: str, date: dt.date) -> ExportedDay:
    """Upgrade the database, then read one day (an ExportError when it is not archived)."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            info = await digest_for_date(session, date=date)
            if info is None:
                raise ExportError(f"no digest for {date.isoformat()} in the archive")
            return await _day(session, info)
    finally:
        await engine.dispose()


async def export_tree(
    url: str, since: dt.date, write: Callable[[ExportedDay, int, int], None]
) -> TreeReport:
    """Upgrade the database, then hand every archived day from `since` on to `write`, oldest
    first (`write(day, done, total)`)."""
    await upgrade(url)
    engine = create_engine(url)
    report = TreeReport()
    try:
        async with session_factory(engine)() as session:
            days = await _days_since(session, since)
            report.days = len(days)
            for done, info in enumerate(days, 1):
                day = await _day(session, info)
                write(day, done, len(days))
                report.files += 1
                if day.verbatim:
                    report.markdown_verbatim += 1
                else:
                    report.generated += 1
    finally:
        await engine.dispose()
    return report


async def _days_since(session: AsyncSession, since: dt.date) -> list[DigestInfo]:
    """The archived days from `since` on, oldest first, each as its preferred digest.

    Walked back from the newest day one query per archived day (not per calendar day), with
    `latest_digest(before=…)`, which already prefers a day's Markdown revision.
    """
    found: list[DigestInfo] = []
    info = await latest_digest(session)
    while info is not None and info.date >= since:
        found.append(info)
        info = await latest_digest(session, before=info.date)
    return found[::-1]


def write_text(path: Path, text: str) -> None:
    """Write `text` as UTF-8 bytes exactly (no newline translation), making missing folders."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None


def day_path(folder: Path, date: dt.date) -> Path:
    """Where a day goes in a tree: `DIR/YYYY/MM/DD.md`, as in the daily_papers_ko archive."""
    return folder / f"{date:%Y}" / f"{date:%m}" / f"{date:%d}.md"


def _usage_problem(args: argparse.Namespace) -> str | None:
    """Which argument combination is wrong, if any."""
    if (args.date is None) == (args.since is None):
        return "give either DATE or --since DATE"
    if args.since is not None and args.dir is None:
        return "--since needs --dir DIR"
    if args.date is not None and (args.dir is not None or args.json):
        return "--dir and --json go with --since; use --out FILE for one day"
    if args.since is not None and args.out is not None:
        return "--out is for one day; use --dir DIR with --since"
    return None


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy export DATE [--out FILE]` / `export --since DATE --dir DIR [--json]`."""
    problem = _usage_problem(args)
    if problem is not None:
        print(f"paperboy export: {problem}", file=sys.stderr)
        return 2
    try:
        if args.date is not None:
            _run_day(settings.database_url, args.date, args.out)
            return 0
        return _run_tree(settings.database_url, args.since, args.dir, as_json=args.json)
    except ExportError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 1


def _run_day(url: str, date: dt.date, out: Path | None) -> None:
    """Export one day to `out`, or to standard output as UTF-8 bytes."""
    day = asyncio.run(export_day(url, date))
    if out is not None:
        write_text(out, day.text)
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(day.text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _run_tree(url: str, since: dt.date, folder: Path, *, as_json: bool) -> int:
    """Export every day since `since` under `folder`; print the summary (JSON last)."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"cannot write {folder}: not a directory")
    with ProgressBar(sys.stderr, unit="day") as progress:

        def write(day: ExportedDay, done: int, total: int) -> None:
            path = day_path(folder, day.date)
            write_text(path, day.text)
            progress(done, total, str(path))

        report = asyncio.run(export_tree(url, since, write))
    if as_json:
        print(json.dumps(report.as_json()))
    else:
        print(
            f"{report.days} days since {since.isoformat()}: {report.files} files in {folder} "
            f"({report.markdown_verbatim} Markdown verbatim, {report.generated} generated)"
        )
    return 0
