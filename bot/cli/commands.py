"""The `paperboy` command line: one table of subcommands, settings built once in `main`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update

from bot.cli.export import configure_export, run_export
from bot.cli.keywords import configure_keywords, run_keywords
from bot.cli.lookups import (
    configure_author,
    configure_paper,
    configure_search,
    run_author,
    run_paper,
    run_search,
)
from bot.cli.progress import ProgressBar, RowCounter
from bot.cli.recommend import configure_recommend, run_recommend
from bot.cli.summarize import configure_summarize, run_summarize
from bot.config import Settings, SettingsError, load_settings
from bot.content.ingest import IngestReport, Progress, announce_days, ingest
from bot.services import utc_now
from storage.db import create_engine, current_revision, session_factory, upgrade

DESCRIPTION = (
    "paperboy: the daily Hugging Face papers digest, in Korean and English, for Telegram chats. "
    "Settings come from the environment and .env (see .env.example)."
)


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand: its help, how to add its arguments, and what it runs (→ exit code)."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Settings], int]


def format_report(report: IngestReport) -> str:
    """The human summary of an ingest run, errors as `file:line: message`."""
    lines = [
        f"{report.files} files: {report.digests} digests stored "
        f"({report.new} new, {report.revised} revised), {report.unchanged} unchanged, "
        f"{report.held} held, {report.failed} failed",
        f"{report.papers} papers ({report.new_papers} new)",
    ]
    if report.held:
        lines.append(
            f"{report.held} held: they would lose most of their day's papers, so the day keeps "
            "its current revision; check them, then ingest them again with --force"
        )
    if report.errors:
        lines.append(f"{len(report.errors)} errors:")
        lines.extend(f"  {e.file}:{e.line}: {e.message}" for e in report.errors)
    return "\n".join(lines)


async def _ingest(
    url: str,
    items: Sequence[str],
    progress: Progress | None,
    *,
    ready: bool = False,
    force: bool = False,
) -> IngestReport:
    """Upgrade the database, ingest `items`, and tell the scheduler which days changed."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        report = await ingest(items, sessions=sessions, progress=progress, force=force)
        await announce_days(report.days, sessions=sessions, now=utc_now(), ready=ready)
        return report
    finally:
        await engine.dispose()


def _print_report(report: IngestReport, *, as_json: bool) -> int:
    """Print the summary (or the JSON object last); exit 1 when a file failed or was held."""
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(format_report(report))
    return 1 if report.failed or report.held else 0


def _configure_ingest(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy ingest`."""
    parser.add_argument("sources", nargs="+", metavar="PATH_OR_URL", help="file, folder or URL")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as last line")
    parser.add_argument(
        "--ready",
        action="store_true",
        help="the ingested days are complete: deliver them at each chat's time without "
        "waiting for them to settle",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="make every changed file its day's current revision, even one that loses most "
        "of the day's papers (such a revision is otherwise stored but held back)",
    )


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy ingest PATH_OR_URL… [--json] [--ready] [--force]`."""
    with ProgressBar(sys.stderr) as progress:
        run = _ingest(
            settings.database_url, args.sources, progress, ready=args.ready, force=args.force
        )
        report = asyncio.run(run)
    return _print_report(report, as_json=args.json)


def _configure_db(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy db ACTION`."""
    actions = parser.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="upgrade the database to the newest schema")
    copy = actions.add_parser("copy", help="copy the whole archive into another (empty) database")
    copy.add_argument("--to", required=True, metavar="URL", help="target database URL")


async def _upgrade(url: str) -> str | None:
    """Upgrade and return the revision the database is now at."""
    await upgrade(url)
    return await current_revision(url)


async def _copy(source_url: str, target_url: str, progress: RowCounter) -> dict[str, int]:
    """Upgrade both databases, then copy the source archive into the target."""
    from storage.copy import copy_database

    await upgrade(source_url)
    await upgrade(target_url)
    source, target = create_engine(source_url), create_engine(target_url)
    try:
        return await copy_database(source=source, target=target, progress=progress.rows)
    finally:
        await source.dispose()
        await target.dispose()


def run_db(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy db upgrade` prints the revision reached; `db copy --to URL` copies the archive."""
    if args.db_action == "copy":
        from storage.copy import CopyError

        try:
            target = load_settings(database_url=args.to).database_url
            with RowCounter(sys.stderr) as progress:
                counts = asyncio.run(_copy(settings.database_url, target, progress))
        except (SettingsError, CopyError) as exc:
            print(f"paperboy: {exc}".replace("DATABASE_URL", "--to"), file=sys.stderr)
            return 2
        print(", ".join(f"{table}: {rows}" for table, rows in counts.items()))
        return 0
    revision = asyncio.run(_upgrade(settings.database_url))
    print(f"database at revision {revision}")
    return 0


def _configure_run(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy run`."""
    parser.add_argument(
        "--role",
        choices=["all", "updates", "delivery"],
        default="all",
        help="all (default); updates: handlers and jobs; delivery: the engine only (PostgreSQL)",
    )


TOKEN_REJECTED = "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather"


async def _prepare(settings: Settings) -> str | None:
    """Upgrade the database and ask Telegram who we are: why we cannot start, or None.

    Asked once here, with a bot of our own that is closed either way: when PTB finds the
    token bad while starting, it logs a traceback whose message holds the whole token and
    leaves its HTTP sessions unclosed.
    """
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from bot.telegram.request import AiohttpRequest

    await upgrade(settings.database_url)
    if settings.telegram_bot_token is None:
        return "TELEGRAM_BOT_TOKEN is required for `paperboy run`"
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        request=AiohttpRequest(connection_pool_size=1),
    )
    try:
        async with bot:  # initialize() calls getMe; shut down again on the way out
            return None
    except InvalidToken:
        return TOKEN_REJECTED
    except NetworkError as exc:  # the request layer keeps the token out of its messages
        return f"cannot reach the Bot API at {settings.telegram_api_base_url}: {exc.message}"


def run_bot(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy run`: upgrade the database, then serve updates (long polling or webhook)."""
    from bot.allocator import limit_arenas
    from bot.roles import RoleRefused, check_role, role_hooks, serve_delivery

    limit_arenas()  # before any database thread starts (bot/allocator.py)

    try:
        check_role(args.role, settings.database_url)
    except RoleRefused as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    if settings.telegram_bot_token is None:
        print("paperboy: TELEGRAM_BOT_TOKEN is required for `paperboy run`", file=sys.stderr)
        return 2
    from bot.app import build_application
    from bot.logs import setup_logging
    from bot.telegram.loop import use_uvloop
    from bot.telegram.webhook import webhook_options

    secrets = [settings.telegram_bot_token.get_secret_value()]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    setup_logging(settings.log_level, secrets=secrets, log_format=settings.log_format)
    loop = "uvloop" if use_uvloop() else "asyncio"  # less CPU per update with uvloop
    logging.getLogger("paperboy").info("starting (%s event loop, role %s)", loop, args.role)
    problem = asyncio.run(_prepare(settings))
    if problem is not None:
        print(f"paperboy: {problem}", file=sys.stderr)
        return 2
    if args.role == "delivery":
        asyncio.run(serve_delivery(settings))
        return 0
    # The live sources by default (DIGEST_SOURCES overrides); the engine and the jobs start
    # with the application and stop with it (on PostgreSQL the jobs under the leader lock).
    application = build_application(settings, on_startup=role_hooks(settings, args.role))
    webhook = webhook_options(settings)
    if webhook is None:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    else:
        application.run_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=webhook.url_path,
            webhook_url=webhook.webhook_url,
            secret_token=webhook.secret_token,
            allowed_updates=Update.ALL_TYPES,
        )
    return 0


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A subcommand without arguments."""


def _configure_emulator(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy emulator`."""
    parser.add_argument("--port", type=int, default=8081, help="loopback port (default 8081)")
    parser.add_argument("--token", default="123456:TEST", help="the bot token it accepts")
    parser.add_argument("--limits", action="store_true", help="enforce Telegram's rate limits")


def run_emulator(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy emulator`: the local Bot API emulator until interrupted."""
    from bot.emulator import serve

    asyncio.run(serve(host="127.0.0.1", port=args.port, token=args.token, limits=args.limits))
    return 0


def run_console(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy console`: imported late, as it loads the whole bot and the emulator."""
    from bot.cli.console import run_console as console

    return console(args, settings)


COMMANDS: dict[str, Command] = {
    "ingest": Command("ingest digests from files, folders or URLs", _configure_ingest, run_ingest),
    "db": Command("database maintenance (upgrade, copy)", _configure_db, run_db),
    "emulator": Command("run the local Bot API emulator", _configure_emulator, run_emulator),
    "run": Command("upgrade the database and run the bot", _configure_run, run_bot),
    "console": Command("chat with the bot offline in the terminal", _no_arguments, run_console),
    "search": Command("search archived papers", configure_search, run_search),
    "author": Command("find an author and their papers", configure_author, run_author),
    "paper": Command("show a paper from the archive", configure_paper, run_paper),
    "summarize": Command("write Korean summaries", configure_summarize, run_summarize),
    "keywords": Command("write papers' search keywords", configure_keywords, run_keywords),
    "export": Command("write archived days as seed Markdown", configure_export, run_export),
    "recommend": Command("rank a day's papers for a reader", configure_recommend, run_recommend),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of `COMMANDS`."""
    parser = argparse.ArgumentParser(prog="paperboy", description=DESCRIPTION)
    parser.add_argument("--db", metavar="URL", help="database URL (overrides DATABASE_URL)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.configure(commands.add_parser(name, help=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `paperboy` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(**({"database_url": args.db} if args.db else {}))
    except SettingsError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command].run(args, settings)
    except (SQLAlchemyError, OSError) as exc:
        print(f"paperboy: database error: {database_problem(exc, settings)}", file=sys.stderr)
        return 1
    except CommandError as exc:  # Alembic: e.g. a database migrated by a newer paperboy
        print(f"paperboy: database schema: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def database_problem(exc: BaseException, settings: Settings) -> str:
    """What went wrong with the database, in one line without the password.

    The driver's own message names the cause (refused connection, unknown database, failed
    authentication); only its first line is shown, and the password never is, should a
    driver ever echo it.
    """
    cause = getattr(exc, "orig", None) or exc
    detail = (str(cause).strip().splitlines() or [""])[0][:200]
    url = make_url(settings.database_url)
    if url.password:
        detail = detail.replace(str(url.password), "***")
    where = url.render_as_string(hide_password=True)
    return f"{type(cause).__name__}{': ' + detail if detail else ''} ({where})"
