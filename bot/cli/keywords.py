"""`paperboy keywords [DATE…] [--limit N] [--json]`: search keywords written by the model."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

from bot.cli.progress import ProgressBar
from bot.cli.summarize import NOT_CONFIGURED, _date
from bot.config import Settings
from storage.db import create_engine, session_factory, upgrade

if TYPE_CHECKING:  # openai loads when this command runs, not with `paperboy run`
    from bot.content.keywords import KeywordReport, Progress


def configure_keywords(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy keywords`."""
    parser.add_argument(
        "dates",
        nargs="*",
        type=_date,
        metavar="DATE",
        help="days whose papers get keywords (default: every archived paper without them)",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="at most N papers, the most recently seen first"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary as last line")


async def _keywords(
    settings: Settings, dates: list[dt.date] | None, *, limit: int | None, progress: Progress
) -> KeywordReport:
    """Upgrade the database, then write the keywords of the papers asked for."""
    from bot.content.keywords import KeywordWriter

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        async with KeywordWriter(settings, sessions=sessions, progress=progress) as writer:
            return await writer.write(dates=dates, limit=limit)
    finally:
        await engine.dispose()


def format_keywords(report: KeywordReport) -> str:
    """The human summary of a run, one line per failure."""
    lines = [
        f"{report.papers} papers: {report.written} given keywords, {report.empty} answered "
        f"with none, {report.failed} failed"
    ]
    if report.failed:
        lines.append("  the endpoint failed; the papers left get keywords on the next run")
    lines.extend(f"  {error}" for error in report.errors)
    return "\n".join(lines)


def run_keywords(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy keywords`: exit 2 without an endpoint or with a bad limit, 1 on a failure."""
    if settings.summary_api_base_url is None:
        print(NOT_CONFIGURED.replace("write summaries", "write keywords"), file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 1:
        print("paperboy: --limit must be at least 1", file=sys.stderr)
        return 2
    with ProgressBar(sys.stderr, unit="paper") as progress:
        report = asyncio.run(
            _keywords(settings, args.dates or None, limit=args.limit, progress=progress)
        )
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(format_keywords(report))
    return 1 if report.failed else 0
