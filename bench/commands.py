"""Benchmark: simulated users sending look-up commands through the emulator to the real bot.

Two processes, as in real life: "Telegram" (the emulator and 50 simulated users) in a child
process, the bot (the real Application, long-polling the emulator over loopback HTTP, with a
SQLite archive holding the sample digests) in this one. A user sends a command (a mix of /paper,
/search, /author and /today), and the latency runs from injecting the update into the emulator
until the bot has finished handling it (every reply sent to and acknowledged by the emulator);
the bot reports each finished update id to the child over a pipe.

Phases: a warm-up; `saturation` (each user sends the next command as soon as the last one is
answered: the most updates/s the bot can handle); `at_rate` (commands arrive at `--rate` per
second from random users, Poisson, not waiting for answers: the latency people would see at
that load; a closed loop with pauses could not keep offering the rate once users finished).
Last line: `{"bench": "commands", "updates_per_s": …, "p50_ms": …, "p99_ms": …, …}` where the
top-level figures are those of `at_rate`. The bot's database engine is `paperboy run`'s
(`storage.db.serving_engine`); `--archive FILE` runs on a copy of an existing archive (e.g.
bench/memory.py's 100,000 papers) instead of the bundled samples.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import random
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.app import CONCURRENT_UPDATES, build_application
from bot.config import load_settings
from bot.content.ingest import ingest_samples
from bot.emulator import Emulator
from bot.services import Services
from bot.telegram.loop import use_uvloop
from handlers.cache import CACHE_KEY, ReadCache
from handlers.common import CommandRateLimit
from storage.db import create_engine, serving_engine, session_factory, upgrade
from storage.models import Author, StoredPaper

TOKEN = "100000002:bench-offline-token-not-secret"
FIRST_USER = 10_000
WORDS = (
    "diffusion",
    "language model",
    "video",
    "agent",
    "reasoning",
    "3D",
    "멀티모달",
    "benchmark",
)
LAST_GROUP = 1_000_000  # a handler group after every real one: marks an update as finished


@dataclass(frozen=True, slots=True)
class Plan:
    """What the simulated users do."""

    users: int
    updates: int
    warmup: int
    rate: float
    ids: list[str]
    names: list[str]


def _command(rng: random.Random, ids: list[str], names: list[str]) -> str:
    """One command of the mix: mostly /paper, then /search, /author and /today."""
    roll = rng.random()
    if roll < 0.4:
        return f"/paper {rng.choice(ids)}"
    if roll < 0.7:
        return f"/search {rng.choice(WORDS)}"
    if roll < 0.9:
        return f"/author {rng.choice(names)}"
    return "/today"


# --- the Telegram side (child process) ---------------------------------------------------


@dataclass(slots=True)
class Finished:
    """Futures for update ids, resolved when the bot reports them handled."""

    waiting: dict[int, asyncio.Future[float]] = field(default_factory=dict)

    def expect(self, update_id: int) -> asyncio.Future[float]:
        """A future resolved with the moment update `update_id` was handled."""
        return self.waiting.setdefault(update_id, asyncio.get_running_loop().create_future())

    def read(self, pipe: Connection) -> None:
        """Resolve every update id the bot has reported so far."""
        while pipe.poll():
            future = self.expect(pipe.recv())
            if not future.done():
                future.set_result(time.perf_counter())


async def _user(
    user_id: int,
    commands: list[str],
    *,
    emulator: Emulator,
    finished: Finished,
    latencies: list[float],
) -> None:
    """One user: send `commands` in turn, each as soon as the last one was answered."""
    for text in commands:
        latencies.append(await _send(emulator, finished, user_id, text))


async def _send(emulator: Emulator, finished: Finished, user_id: int, text: str) -> float:
    """Inject one command; seconds until the bot reported it handled."""
    started = time.perf_counter()
    update_id = emulator.send_text(chat_id=user_id, user_id=user_id, text=text)
    done = await finished.expect(update_id)
    del finished.waiting[update_id]
    return done - started


def _figures(latencies: list[float], wall: float, **extra: float | None) -> dict[str, Any]:
    """Count, throughput and latency percentiles of one phase."""
    latencies = sorted(latencies)
    return {
        "updates": len(latencies),
        **extra,
        "updates_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
    }


async def _closed_loop(
    emulator: Emulator, finished: Finished, plan: Plan, *, updates: int, seed: int
) -> dict[str, Any]:
    """Every user sends its next command as soon as the last one is answered."""
    rng = random.Random(seed)
    per_user = max(1, updates // plan.users)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _user(
                FIRST_USER + n,
                [_command(rng, plan.ids, plan.names) for _ in range(per_user)],
                emulator=emulator,
                finished=finished,
                latencies=latencies,
            )
            for n in range(plan.users)
        )
    )
    return _figures(latencies, time.perf_counter() - started, offered_per_s=None)


async def _open_loop(
    emulator: Emulator, finished: Finished, plan: Plan, *, updates: int, rate: float, seed: int
) -> dict[str, Any]:
    """Commands arrive at `rate` per second in all (Poisson), each from a random user, whether
    or not earlier ones were answered: the load a bot in many busy chats gets.

    Each latency runs from the command's scheduled arrival, so a generator running late
    counts against the bot, not for it. `updates_per_s` runs until the last answer, so it
    falls below `rate` when the bot lags; `sent_per_s` is the rate commands went out at.
    """
    rng = random.Random(seed)
    waiting: list[tuple[float, asyncio.Future[float]]] = []
    started = due = time.perf_counter()
    for _ in range(updates):
        due += rng.expovariate(rate)
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        user = FIRST_USER + rng.randrange(plan.users)
        text = _command(rng, plan.ids, plan.names)
        update_id = emulator.send_text(chat_id=user, user_id=user, text=text)
        waiting.append((due, finished.expect(update_id)))
    sent = time.perf_counter() - started
    latencies = [await future - arrival for arrival, future in waiting]
    return _figures(
        latencies,
        time.perf_counter() - started,
        offered_per_s=rate,
        sent_per_s=round(updates / sent, 1),
    )


async def _telegram(control: Connection, reports: Connection, plan: Plan) -> None:
    """Serve the emulator, wait for the bot, run the phases, send the figures back."""
    emulator = Emulator(token=TOKEN)
    finished = Finished()
    async with emulator.running(port=0):
        control.send(emulator.port)
        await asyncio.to_thread(control.recv)  # the bot is polling
        asyncio.get_running_loop().add_reader(reports.fileno(), finished.read, reports)
        await _closed_loop(emulator, finished, plan, updates=plan.warmup, seed=1)
        saturation = await _closed_loop(emulator, finished, plan, updates=plan.updates, seed=2)
        at_rate = await _open_loop(
            emulator, finished, plan, updates=plan.updates, rate=plan.rate, seed=3
        )
        control.send({"saturation": saturation, "at_rate": at_rate})
        await asyncio.to_thread(control.recv)  # the bot stopped polling


def telegram_side(control: Connection, reports: Connection, plan: Plan) -> None:
    """The child process's entry point."""
    use_uvloop()
    asyncio.run(_telegram(control, reports, plan))


# --- the bot side (this process) ---------------------------------------------------------


async def _corpus(url: str) -> tuple[list[str], list[str]]:
    """Archived arXiv ids and author names to ask for."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            ids = list((await session.scalars(select(StoredPaper.arxiv_id).limit(500))).all())
            names = list((await session.scalars(select(Author.name).limit(500))).all())
    finally:
        await engine.dispose()
    return ids, names


def _reporter(pipe: Connection) -> TypeHandler[Update, Any, Any]:
    """A handler in the last group: tell the Telegram side that an update was handled."""

    async def report(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        pipe.send(update.update_id)

    return TypeHandler(Update, report)


async def _serve_bot(
    url: str, port: int, reports: Connection, *, cache: bool, concurrency: int
) -> Any:
    """The Application against the emulator on `port`, as an async context to run inside."""
    settings = load_settings(
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=f"http://127.0.0.1:{port}/bot",
        database_url=url,
        _env_file=None,
    )
    sessions = session_factory(serving_engine(url))  # `paperboy run`'s pool and page cache
    services = Services(settings, sessions, lambda: dt.datetime.now(dt.UTC))
    app = build_application(
        settings,
        services=services,
        extra_handlers=[(_reporter(reports), LAST_GROUP)],
        # Each simulated user sends several commands a second, far over the budget meant to
        # stop one person flooding the bot.
        command_rate=CommandRateLimit(limit=1_000_000),
        concurrent_updates=concurrency,
    )
    if not cache:
        app.bot_data[CACHE_KEY] = ReadCache(size=0)
    return app


async def run(
    *,
    users: int,
    updates: int,
    warmup: int,
    rate: float,
    cache: bool,
    concurrency: int,
    archive: Path | None = None,
) -> dict[str, Any]:
    """Set up the archive (the samples, or a copy of `archive`), start both sides, measure;
    return the figures."""
    with tempfile.TemporaryDirectory(prefix="paperboy-bench-") as folder:
        path = Path(folder) / "bench.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        if archive is not None:
            shutil.copyfile(archive, path)
        await upgrade(url)
        if archive is None:
            engine = create_engine(url)
            await ingest_samples(sessions=session_factory(engine))
            await engine.dispose()
        ids, names = await _corpus(url)
        plan = Plan(users, updates, warmup, rate, ids, names)
        spawn = multiprocessing.get_context("spawn")
        control, child_control = spawn.Pipe()
        reports_in, reports_out = spawn.Pipe(duplex=False)
        child = spawn.Process(target=telegram_side, args=(child_control, reports_in, plan))
        child.start()
        try:
            port = await asyncio.to_thread(control.recv)
            app = await _serve_bot(url, port, reports_out, cache=cache, concurrency=concurrency)
            async with app:
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0.0, timeout=10)
                control.send("go")
                phases = await asyncio.to_thread(control.recv)
                await app.updater.stop()
                await app.stop()
            control.send("stop")
        finally:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    at_rate = phases["at_rate"]
    return {
        "bench": "commands",
        "users": users,
        "archive": None if archive is None else str(archive),
        "cache": cache,
        "concurrent_updates": concurrency,
        "max_updates_per_s": phases["saturation"]["updates_per_s"],
        "offered_per_s": rate,
        "updates_per_s": at_rate["updates_per_s"],
        "p50_ms": at_rate["p50_ms"],
        "p99_ms": at_rate["p99_ms"],
        **phases,
    }


def main() -> None:
    """`python -m bench.commands [--users 50] [--updates N] [--rate 300] [--no-cache]
    [--archive FILE]`."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--updates", type=int, default=3000, help="commands per phase")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rate", type=float, default=300.0, help="updates/s offered in at_rate")
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENT_UPDATES, help="concurrent_updates"
    )
    parser.add_argument("--no-cache", dest="cache", action="store_false")
    parser.add_argument("--archive", type=Path, help="a copy of this SQLite archive, not samples")
    args = parser.parse_args()
    use_uvloop()  # as `paperboy run` does
    figures = asyncio.run(
        run(
            users=args.users,
            updates=args.updates,
            warmup=args.warmup,
            rate=args.rate,
            cache=args.cache,
            concurrency=args.concurrency,
            archive=args.archive,
        )
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
