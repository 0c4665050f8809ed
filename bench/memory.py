"""Memory of `paperboy run`: idle, through a 10,000-chat dispatch and broadcast, and under load.

The bot is the real `paperboy run`, a subprocess talking to the emulator (in this process) over
loopback; its memory is read from /proc/<pid>/status (VmRSS sampled every 50 ms, VmHWM at the
end). The archive is 100,000 papers built like bench/search.py's (`--archive` keeps it for the
next run; a run works on a copy), plus a day dated today marked ready. Phases: idle (the bot
started, nothing due); 10,000 chats subscribe and the next dispatch pass queues the day for
them; the broadcast (the emulator and, by default, the engine enforce no limits: `--rate 30`
keeps Telegram's); `--commands-rate` look-up commands per second from distinct users
(`--commands-only` goes from idle straight to them, skipping the dispatch and the broadcast).
Last line: `{"bench": "memory", "idle_mb", "peak_mb", "steady_mb", …}` where `peak_mb` is the
process's high-water mark (VmHWM) over the whole run and `steady_mb` its RSS after the broadcast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.search import DEFAULT_CORPUS, build, generated, load_corpus
from bot.emulator import Emulator
from storage.chats import Chat
from storage.db import create_engine, session_factory, upgrade
from storage.deliveries import Delivery, mark_ready, observe_day
from storage.digest_store import StoreCache, store_digests

TOKEN = "100000003:memory-bench-token-not-secret"
COMMANDS = ("/paper {id}", "/search diffusion", "/search 언어 모델", "/author {name}", "/today")
ROOT = str(Path(__file__).resolve().parents[1])


def utc_now() -> dt.datetime:
    """Tz-aware UTC now."""
    return dt.datetime.now(dt.UTC)


def default_archive(papers: int) -> Path:
    """Where the archive is kept between runs unless `--archive` says otherwise."""
    return Path(tempfile.gettempdir()) / f"paperboy-bench-memory-{papers}.sqlite3"


def ensure_archive(path: Path, papers: int, corpus: Path) -> float | None:
    """Build the archive unless it exists; seconds it took (None: reused)."""
    if path.exists():
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))  # once, not on every run's copy
        return None
    real = load_corpus(corpus)
    extra = max(0, papers - len({p.arxiv_id for d in real for p in d.papers}))
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    digests = generated([p for d in real for p in d.papers], extra, random.Random(6)) + real
    seconds = asyncio.run(build(f"sqlite+aiosqlite:///{partial}", digests))
    partial.rename(path)
    return seconds


async def add_today(url: str, corpus: Path) -> tuple[dt.date, int]:
    """Store today's digest (the corpus's largest day, re-dated) and mark it ready."""
    today = utc_now().date()
    day = max(load_corpus(corpus), key=lambda digest: len(digest.papers))
    digest = day.model_copy(update={"date": today, "source": f"memory/{today}"})
    await upgrade(url)  # the bot's start-up then finds nothing to migrate (or to reindex)
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            await store_digests(session, digests=[(digest, digest.source)], cache=StoreCache())
            moment = utc_now() - dt.timedelta(hours=1)
            await observe_day(session, date=today, now=moment)
            await mark_ready(session, date=today, now=moment, by_hand=True)
    finally:
        await engine.dispose()
    return today, len(digest.papers)


def chat_row(chat_id: int, now: dt.datetime) -> dict[str, Any]:
    """A subscribed private chat due now; languages and sizes vary as real settings do."""
    return {
        "chat_id": chat_id,
        "type": "private",
        "language": (None, "ko", "en")[chat_id % 3],
        "subscribed": True,
        "subscribed_at": now - dt.timedelta(days=2),
        "active": True,
        "delivery_time": "00:00",
        "timezone": "UTC",
        "weekdays": "1234567",
        "top_n": (10, 5, 20, 10)[chat_id % 4],
        "min_votes": 0,
        "include_keywords": [],
        "exclude_keywords": [],
        "followed_authors": [],
        "created_at": now,
        "updated_at": now,
    }


async def subscribe(url: str, chats: int) -> None:
    """Subscribe chats 1…N at once (as if they had all sent /subscribe)."""
    engine = create_engine(url)
    now = utc_now()
    try:
        async with session_factory(engine).begin() as session:
            await session.execute(insert(Chat), [chat_row(i, now) for i in range(1, chats + 1)])
    finally:
        await engine.dispose()


async def rows_and_open(url: str) -> tuple[int, int]:
    """Delivery rows queued, and those still pending or sending."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            total = await session.scalar(select(func.count()).select_from(Delivery))
            still = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.state.in_(("pending", "sending")))
            )
            return int(total or 0), int(still or 0)
    finally:
        await engine.dispose()


async def lookups(url: str) -> tuple[list[str], list[str]]:
    """Paper ids and author names the commands ask about."""
    from storage.models import Author, StoredPaper

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            ids = list(await session.scalars(select(StoredPaper.arxiv_id).limit(2000)))
            names = list(await session.scalars(select(Author.name).limit(2000)))
            return ids, names
    finally:
        await engine.dispose()


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values


@dataclass(slots=True)
class Sampler:
    """RSS of the bot sampled in the background; the peak per named phase."""

    pid: int
    trace: bool = False
    phase: str = "start"
    peaks: dict[str, float] = field(default_factory=dict)
    last: float = 0.0

    def enter(self, phase: str) -> None:
        """Start a phase (and say so on stderr, with the RSS it starts at); a traced bot
        (`--trace`) takes a snapshot."""
        print(f"{phase}: bot at {self.last:.0f} MB", file=sys.stderr, flush=True)
        if self.trace:
            os.kill(self.pid, signal.SIGUSR1)
        self.phase = phase

    async def run(self) -> None:
        """Sample every 50 ms until cancelled."""
        while True:
            with contextlib.suppress(OSError, KeyError):
                self.last = status_mb(self.pid)["VmRSS"]
                self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), self.last)
            await asyncio.sleep(0.05)


def bot_command(unlimited: bool) -> list[str]:
    """`paperboy run`, or (`unlimited`) the same with the engine's limits off."""
    if not unlimited:
        return [
            sys.executable,
            "-c",
            "from bot.cli.commands import main; raise SystemExit(main(['run']))",
        ]
    return [sys.executable, "-m", "bench.memory", "bot"]


def trace_on_signal(folder: str) -> None:
    """Debugging (`--trace DIR`): trace allocations; each SIGUSR1 writes a snapshot to DIR
    (`--trace malloc`: glibc's `malloc_stats()`, per arena, on stderr instead)."""
    if folder == "malloc":
        import ctypes

        libc = ctypes.CDLL("libc.so.6")

        def stats(_signal: int, _frame: Any) -> None:
            libc.malloc_stats()
            sys._debugmallocstats()  # pymalloc's arenas, which glibc's figures leave out

        signal.signal(signal.SIGUSR1, stats)
        return
    import tracemalloc

    tracemalloc.start(12)
    taken = iter(range(1_000_000))

    def dump(_signal: int, _frame: Any) -> None:
        now, peak = tracemalloc.get_traced_memory()  # before the snapshot's own copy
        print(f"traced {now / 2**20:.1f} MB, peak {peak / 2**20:.1f} MB", file=sys.stderr)
        tracemalloc.take_snapshot().dump(f"{folder}/{next(taken):02d}.snapshot")
        tracemalloc.reset_peak()

    signal.signal(signal.SIGUSR1, dump)


def run_bot_unlimited() -> int:
    """`paperboy run` with the delivery engine's default limits replaced by none at all (the
    bench's emulator enforces none either; at 30/s a 10,000-chat broadcast takes 20 minutes)."""
    if os.environ.get("BENCH_MEMORY_TRACE"):
        trace_on_signal(os.environ["BENCH_MEMORY_TRACE"])
    import bot.clock
    from bot.cli.commands import main
    from bot.delivery.ratelimit import Limits

    vars(bot.clock)["Limits"] = Limits.unlimited  # what `start_engine` builds its limits with
    return main(["run"])


async def wait_until(check: Any, *, within: float, every: float = 0.25) -> float:
    """Poll an async `check` until true; seconds waited (raises after `within`)."""
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > within:
            raise TimeoutError(f"not done within {within:.0f}s")
        await asyncio.sleep(every)
    return time.perf_counter() - started


async def commands(
    emulator: Emulator, ids: Sequence[str], names: Sequence[str], *, rate: float, seconds: float
) -> float:
    """Inject look-up commands from distinct users at `rate`/s; the rate the bot answered at."""
    rng = random.Random(3)
    started, sent = time.perf_counter(), 0
    answered_before = emulator.stats.accepted
    while (elapsed := time.perf_counter() - started) < seconds:
        while sent < elapsed * rate:
            text = rng.choice(COMMANDS).format(id=rng.choice(ids), name=rng.choice(names))
            user = 1_000_000 + sent
            emulator.send_text(chat_id=user, user_id=user, text=text)
            sent += 1
        await asyncio.sleep(0.01)
    with contextlib.suppress(TimeoutError):
        await emulator.wait_for(
            lambda: emulator.stats.accepted - answered_before >= sent, within=30
        )
    return (emulator.stats.accepted - answered_before) / (time.perf_counter() - started)


async def bench(args: argparse.Namespace, folder: str, built: float | None) -> dict[str, Any]:
    """Every phase, on the archive's copy in `folder`; the figures."""
    url = f"sqlite+aiosqlite:///{folder}/bot.sqlite3"
    today, papers_today = await add_today(url, args.corpus)
    ids, names = await lookups(url)
    sources = f"{folder}/sources"
    emulator = Emulator(token=TOKEN, limits=args.rate > 0, seed=1)
    async with emulator.running(port=0):
        env = {
            **os.environ,
            "PYTHONPATH": ROOT,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "DATABASE_URL": url,
            "DIGEST_SOURCES": sources,
            "DIGEST_POLL_INTERVAL": str(args.dispatch_every / 60),
            "LOG_LEVEL": "WARNING",
        }
        if args.trace is not None:
            env["BENCH_MEMORY_TRACE"] = str(args.trace)
        process = await asyncio.create_subprocess_exec(
            *bot_command(args.rate <= 0), env=env, cwd=folder
        )
        sampler = Sampler(process.pid, trace=args.trace is not None)
        sampling = asyncio.create_task(sampler.run())
        try:
            figures = await _phases(args, emulator, url, sampler, ids, names)
            figures["peak_mb"] = round(status_mb(process.pid)["VmHWM"], 1)
        finally:
            sampling.cancel()
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    return {
        "bench": "memory",
        "papers": args.papers,
        "chats": args.chats,
        "papers_today": papers_today,
        "archive_built_seconds": None if built is None else round(built, 1),
        **figures,
        "peaks_mb": {name: round(value, 1) for name, value in sampler.peaks.items()},
        "target_mb": 150,
        "day": today.isoformat(),
    }


async def _phases(
    args: argparse.Namespace,
    emulator: Emulator,
    url: str,
    sampler: Sampler,
    ids: Sequence[str],
    names: Sequence[str],
) -> dict[str, Any]:
    """Idle, dispatch, broadcast, steady, commands: what each phase measured."""
    await emulator.wait_for(lambda: emulator.long_polls > 0, within=120)
    sampler.enter("idle")
    await asyncio.sleep(args.idle)
    idle = sampler.last
    figures: dict[str, Any] = {"idle_mb": round(idle, 1)}
    if not args.commands_only:
        figures.update(await _broadcast(args, emulator, url, sampler))
    if args.commands_rate > 0:
        sampler.enter("commands")
        answered = await commands(
            emulator, ids, names, rate=args.commands_rate, seconds=args.commands_seconds
        )
        figures["commands_peak_mb"] = round(sampler.peaks.get("commands", 0.0), 1)
        figures["commands_answered_per_s"] = round(answered, 1)
        if sampler.trace:
            sampler.enter("end")  # the last snapshot
    return figures


async def _broadcast(
    args: argparse.Namespace, emulator: Emulator, url: str, sampler: Sampler
) -> dict[str, Any]:
    """Dispatch, broadcast, steady: what those phases measured."""
    sampler.enter("dispatch")
    await subscribe(url, args.chats)

    chats: int = args.chats

    async def queued() -> bool:
        return (await rows_and_open(url))[0] >= chats

    dispatch_wait = await wait_until(queued, within=args.dispatch_every * 2 + 120)
    sampler.enter("broadcast")

    async def drained() -> bool:
        return (await rows_and_open(url))[1] == 0

    started = time.perf_counter()
    await wait_until(drained, within=args.timeout, every=0.5)
    broadcast = time.perf_counter() - started
    messages = emulator.stats.accepted
    sampler.enter("after")
    await asyncio.sleep(args.idle)
    steady = sampler.last
    return {
        "steady_mb": round(steady, 1),
        "dispatch_wait_seconds": round(dispatch_wait, 1),
        "broadcast_seconds": round(broadcast, 1),
        "messages": messages,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["bench", "bot"], default="bench")
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--archive", type=Path, help="build into (or reuse) this SQLite file")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rate", type=float, default=0.0, help="overall limit (0: none)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of each quiet phase")
    parser.add_argument("--dispatch-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=1800.0, help="broadcast seconds, at most")
    parser.add_argument("--commands-rate", type=float, default=300.0)
    parser.add_argument("--commands-seconds", type=float, default=20.0)
    parser.add_argument(
        "--commands-only", action="store_true", help="skip the dispatch and the broadcast"
    )
    parser.add_argument(
        "--trace",
        type=Path,
        help="debugging (--rate 0): the bot's tracemalloc snapshot at each phase into this "
        "folder, or `malloc`: glibc's and pymalloc's statistics on stderr",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the bench (or, `bot`, the bench's bot process); print the JSON line last."""
    args = parse_args(argv)
    if args.mode == "bot":
        raise SystemExit(run_bot_unlimited())
    archive = args.archive or default_archive(args.papers)
    built = ensure_archive(archive, args.papers, args.corpus)
    with tempfile.TemporaryDirectory(prefix="paperboy-memory-") as folder:
        shutil.copyfile(archive, f"{folder}/bot.sqlite3")
        Path(folder, "sources").mkdir()
        result = asyncio.run(bench(args, folder, built))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
