"""`paperboy summarize [DATE…] [--missing] [--json]`: Korean summaries written by the summarizer."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

from bot.cli.progress import ProgressBar
from bot.config import Settings
from bot.services import utc_now
from storage.db import create_engine, session_factory, upgrade

if TYPE_CHECKING:  # openai loads when this command runs, not with `paperboy run`
    from bot.content.summarizer import Progress, SummaryReport

NOT_CONFIGURED = (
    "paperboy: SUMMARY_API_BASE_URL is not set; point it at an OpenAI-compatible endpoint "
    "(e.g. https://api.openai.com/v1 with SUMMARY_API_KEY) to write summaries"
)


def _date(value: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def configure_summarize(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy summarize`."""
    parser.add_argument(
        "dates",
        nargs="*",
        type=_date,
        metavar="DATE",
        help="days (default: yesterday and today, UTC)",
    )
    parser.add_argument(
        "--missing", action="store_true", help="only papers no digest gave a Korean summary"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary as last line")


def default_dates(now: dt.datetime) -> list[dt.date]:
    """Yesterday and today (UTC): the days the HF list is still filling."""
    today = now.astimezone(dt.UTC).date()
    return [today - dt.timedelta(days=1), today]


async def _summarize(
    settings: Settings, dates: list[dt.date], *, missing_only: bool, progress: Progress
) -> SummaryReport:
    """Upgrade the database, then summarize the papers of `dates`."""
    from bot.content.summarizer import Summarizer

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        async with Summarizer(settings, sessions=sessions, progress=progress) as summarizer:
            return await summarizer.summarize_days(dates, missing_only=missing_only)
    finally:
        await engine.dispose()


def format_summary(report: SummaryReport) -> str:
    """The human summary of a run, one line per failed paper."""
    lines = [
        f"{report.papers} papers: {report.summarized} summarized, {report.cached} cached, "
        f"{report.failed} failed, {report.skipped} skipped, {report.capped} over the daily cap",
        f"tokens: {report.prompt_tokens} prompt, {report.completion_tokens} completion",
    ]
    lines.extend(f"  {error['arxiv_id']}: {error['message']}" for error in report.errors)
    return "\n".join(lines)


def run_summarize(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy summarize`: exit 2 without an endpoint, 1 when a paper failed."""
    if settings.summary_api_base_url is None:
        print(NOT_CONFIGURED, file=sys.stderr)
        return 2
    dates = args.dates or default_dates(utc_now())
    with ProgressBar(sys.stderr, unit="paper") as progress:
        report = asyncio.run(
            _summarize(settings, dates, missing_only=args.missing, progress=progress)
        )
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(format_summary(report))
    return 1 if report.failed else 0
