"""Broadcast one digest to N chats through the delivery engine and the emulator.

Modes:
- `limits`: the emulator enforces Telegram's limits; paperboy's scheduler keeps them. Figures:
  sustained messages/s, 429s received, lost, duplicated, groups over 20/min.
- `unlimited`: the emulator enforces nothing; the scheduler runs at paid-broadcast 1,000/s.
  Figures: engine messages/s, a bare httpx client's messages/s posting the same messages to the
  same emulator, and their ratio.
- `faults`: 5% 429, 1% 403, 0.5% migrate, 1% 5xx, 0.5% timeouts after delivery, and the engine
  (a subprocess) SIGKILLed once mid-broadcast and restarted. Figures: lost, duplicates, ambiguous.

`python -m bench.broadcast worker …` is the engine process the other modes (and the tests) run.
The last line printed is one JSON object `{"bench": "broadcast", …}`.

Several workers: `--db postgres --workers N` seeds a fresh PostgreSQL database (on the server
named by PAPERBOY_BENCH_DATABASE_URL, else PAPERBOY_TEST_DATABASE_URL; dropped afterwards)
and runs N worker processes that share the outbox through leases. Throughput is then read
from the emulator's own clock (first to last accepted message), so process start-up does not
count. `unlimited` runs the workers with no limits at all (the baseline is N=1 in a separate
run); `limits` shares Telegram's 30/s between them through `bot.delivery.sharedrate` and reports the
most messages the emulator saw in any one second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bot.delivery.engine import DeliveryEngine, RetryPolicy, SendGate, build_delivery_bot
from bot.delivery.ratelimit import Limits, RateScheduler
from bot.delivery.sharedrate import SharedRate
from bot.emulator import Emulator
from storage.chats import Chat
from storage.db import create_engine, session_factory, upgrade
from storage.deliveries import Delivery, ambiguous_total, counts_by_state

TOKEN = "123456:broadcast-bench-token-abcdefghij"
DAY = dt.date(2025, 3, 14)
ROOT = str(Path(__file__).resolve().parents[1])


def utc_now() -> dt.datetime:
    """Tz-aware UTC now."""
    return dt.datetime.now(dt.UTC)


def chat_ids(private: int, groups: int) -> list[int]:
    """Private chats 1…N and groups −1…−M (interleaved so groups are spread over the run)."""
    ids = list(range(1, private + 1))
    step = max(1, private // max(groups, 1))
    for index in range(groups):
        ids.insert(min(len(ids), (index + 1) * step + index), -(index + 1))
    return ids


def message_for(chat_id: int, part: int) -> str:
    """The digest text each chat gets (distinct per chat, so duplicates are visible)."""
    return f"<b>Daily Papers · {DAY}</b> #{part} for {chat_id}\n1. <i>A paper</i> 👍 42"


async def seed(url: str, ids: Sequence[int], *, parts: int) -> None:
    """Migrate, subscribe every chat and queue one digest row per chat, in bulk."""
    await upgrade(url)
    engine = create_engine(url)
    now = utc_now()
    chats = [_chat_row(chat_id, now) for chat_id in ids]
    rows = [_delivery_row(chat_id, parts, now) for chat_id in ids]
    try:
        async with session_factory(engine).begin() as session:
            await session.execute(insert(Chat), chats)
            await session.execute(insert(Delivery), rows)
    finally:
        await engine.dispose()


def _chat_row(chat_id: int, now: dt.datetime) -> dict[str, Any]:
    """A subscribed chat with default settings."""
    return {
        "chat_id": chat_id,
        "type": "private" if chat_id > 0 else "group",
        "subscribed": True,
        "subscribed_at": now,
        "active": True,
        "delivery_time": "09:00",
        "timezone": "Asia/Seoul",
        "weekdays": "1234567",
        "top_n": 10,
        "min_votes": 0,
        "include_keywords": [],
        "exclude_keywords": [],
        "followed_authors": [],
        "created_at": now,
        "updated_at": now,
    }


def _delivery_row(chat_id: int, parts: int, now: dt.datetime) -> dict[str, Any]:
    """A pending digest row of `parts` messages."""
    return {
        "chat_id": chat_id,
        "digest_date": DAY,
        "kind": "digest",
        "seq": 0,
        "state": "pending",
        "attempts": 0,
        "ambiguous": 0,
        "next_attempt_at": now,
        "messages": [message_for(chat_id, part) for part in range(1, parts + 1)],
        "message_ids": [],
        "arxiv_ids": [],
        "known_ids": [],
        "late": False,
        "created_at": now,
        "updated_at": now,
    }


def worker_name(pid: int) -> str:
    """The `claimed_by` of the bench worker process `pid` (tests find a process's rows by it)."""
    return f"bench-{pid}"


def limits_for(rate: float) -> Limits:
    """Telegram's limits at an overall `rate` (0: no limits at all)."""
    return Limits.unlimited() if rate <= 0 else Limits(global_rate=rate)


async def run_worker(
    url: str,
    base_url: str,
    *,
    rate: float,
    inflight: int,
    read_timeout: float,
    lease: float = 600.0,
    shared_rate: float = 0.0,
    multi: bool = False,
) -> dict[str, Any]:
    """Recover, then drain the outbox: what one (re)started engine process does. With `multi`
    other workers may be alive, so only rows whose lease ran out are recovered; with
    `shared_rate` the overall limit is booked in the database instead of kept locally."""
    engine = create_engine(url)
    bot = build_delivery_bot(
        TOKEN, base_url=base_url, pool_size=min(inflight, 256), read_timeout=read_timeout
    )
    sessions = session_factory(engine)
    gate: SendGate | None = None
    limits = limits_for(rate)
    if shared_rate > 0:
        gate = SharedRate(sessions, rate=shared_rate)
        limits = Limits(global_rate=0.0)  # per-chat and group limits stay local
    try:
        async with bot:
            delivery = DeliveryEngine(
                bot=bot,
                sessions=sessions,
                scheduler=RateScheduler(limits, time.monotonic),
                clock=utc_now,
                policy=RetryPolicy(max_attempts=8, base=0.2, cap=5.0),
                max_inflight=inflight,
                lease=dt.timedelta(seconds=lease),
                gate=gate,
                worker=worker_name(os.getpid()),
            )
            await delivery.recover(only_expired=multi)
            started = time.perf_counter()
            stats = await delivery.drain()
            return {"seconds": time.perf_counter() - started, **asdict(stats)}
    finally:
        await engine.dispose()


async def outcome(url: str) -> dict[str, Any]:
    """Rows by state and ambiguous outcomes, from the table."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            skipped = set(
                await session.scalars(select(Delivery.chat_id).where(Delivery.state == "skipped"))
            )
            # A group that migrated and then blocked the bot is skipped under its new id; the
            # bench expects its texts under the old one, so both ids count as unreachable.
            moved = await session.scalars(select(Chat.chat_id).where(Chat.migrated_to.in_(skipped)))
            return {
                "rows": await counts_by_state(session),
                "ambiguous": await ambiguous_total(session),
                "skipped_chat_ids": sorted(skipped | set(moved)),
            }
    finally:
        await engine.dispose()


def accounting(emulator: Emulator, expected: dict[int, list[str]]) -> dict[str, int]:
    """Lost and duplicated messages: every text names its chat, so a text counts wherever it
    arrived (a migrated group receives at its new id)."""
    received: Counter[str] = Counter()
    for (_chat, text), count in emulator.stats.texts.items():
        received[text] += count
    lost = duplicated = 0
    for texts in expected.values():
        for text in texts:
            count = received.get(text, 0)
            lost += count == 0
            duplicated += max(0, count - 1)
    return {"lost": lost, "duplicated": duplicated}


def plain(markup: str) -> str:
    """The text Telegram shows for our message (tags dropped; the bench texts need no more)."""
    for tag in ("<b>", "</b>", "<i>", "</i>"):
        markup = markup.replace(tag, "")
    return markup


def expected_texts(ids: Sequence[int], parts: int) -> dict[int, list[str]]:
    """Per chat, the plain texts it must receive."""
    return {c: [plain(message_for(c, p)) for p in range(1, parts + 1)] for c in ids}


def sustained_rate(emulator: Emulator) -> float:
    """Accepted messages per second between the first and last acceptance."""
    times = sorted(t for chat in emulator.stats.sent_at.values() for t in chat)
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


async def bare_client(base_url: str, ids: Sequence[int], *, parts: int, workers: int) -> float:
    """Messages/s of a bare httpx client posting the same messages with `workers` connections."""
    jobs = [(c, message_for(c, p)) for c in ids for p in range(1, parts + 1)]
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=f"{base_url}{TOKEN}/", limits=limits) as client:
        queue = iter(jobs)

        async def post_all() -> None:
            for chat_id, text in queue:
                payload = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
                response = await client.post("sendMessage", json=payload)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(post_all() for _ in range(workers)))
        return len(jobs) / (time.perf_counter() - started)


def worker_command(
    url: str,
    base_url: str,
    *,
    rate: float,
    inflight: int,
    lease: float = 600.0,
    shared_rate: float = 0.0,
    multi: bool = False,
) -> list[str]:
    """The command line of an engine subprocess."""
    extra = ["--lease", str(lease), "--shared-rate", str(shared_rate)]
    return [
        sys.executable,
        "-m",
        "bench.broadcast",
        "worker",
        "--db",
        url,
        "--base-url",
        base_url,
        "--rate",
        str(rate),
        "--inflight",
        str(inflight),
        *extra,
        *(["--multi"] if multi else []),
    ]


async def run_subprocess(emulator: Emulator, command: list[str], *, kill_after: int | None) -> bool:
    """Run an engine subprocess; SIGKILL it once `kill_after` messages were accepted."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        while process.returncode is None:
            if kill_after is not None and emulator.stats.accepted >= kill_after:
                process.send_signal(signal.SIGKILL)
                await process.wait()
                return True
            # Polling the emulator's counter from outside the worker process; no event exists.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.01)
        return False
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def add_faults(emulator: Emulator) -> None:
    """The faults mode's mix of failures on sendMessage."""
    mix: tuple[tuple[str, float, dict[str, Any]], ...] = (
        ("retry_after", 0.05, {"retry_after": 1}),
        ("blocked", 0.01, {}),
        ("migrate", 0.005, {}),
        ("server_error", 0.01, {"status": 502}),
        ("delay", 0.005, {"seconds": 3.0}),
    )
    for kind, probability, options in mix:
        emulator.add_fault(
            kind, method="sendMessage", count=None, probability=probability, **options
        )


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run one mode and return its figures."""
    if args.db == "postgres":
        return await bench_postgres(args)
    ids = chat_ids(args.private, args.groups)
    with tempfile.TemporaryDirectory(prefix="paperboy-broadcast-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/broadcast.sqlite3"
        await seed(url, ids, parts=args.parts)
        emulator = Emulator(token=TOKEN, limits=args.mode == "limits", seed=args.seed)
        async with emulator.running(port=0):
            figures = await _mode(args, emulator, url, ids)
            result = await outcome(url)
            figures.update(result, skipped_chat_ids=len(result["skipped_chat_ids"]))
    return {"bench": "broadcast", "mode": args.mode, "chats": len(ids), **figures}


async def _mode(
    args: argparse.Namespace, emulator: Emulator, url: str, ids: Sequence[int]
) -> dict[str, Any]:
    """The figures particular to each mode."""
    expected = expected_texts(ids, args.parts)
    if args.mode == "limits":
        run = await run_worker(
            url, emulator.base_url, rate=args.rate, inflight=args.inflight, read_timeout=10.0
        )
        return {
            "messages_per_second": round(sustained_rate(emulator), 2),
            "engine_seconds": round(run["seconds"], 2),
            "too_many_requests": emulator.stats.too_many_requests,
            "violations": dict(emulator.stats.violations),
            "groups_over_20_per_minute": len(emulator.stats.groups_over(20)),
            **accounting(emulator, expected),
        }
    if args.mode == "unlimited":
        run = await run_worker(
            url,
            emulator.base_url,
            rate=Limits.paid_broadcast().global_rate,
            inflight=args.inflight,
            read_timeout=10.0,
        )
        engine_rate = len(ids) * args.parts / run["seconds"]
        checked = accounting(emulator, expected)
        emulator.reset()
        bare = await bare_client(emulator.base_url, ids, parts=args.parts, workers=64)
        return {
            "engine_messages_per_second": round(engine_rate, 1),
            "bare_httpx_messages_per_second": round(bare, 1),
            "ratio": round(engine_rate / bare, 3),
            **checked,
        }
    add_faults(emulator)
    started = time.perf_counter()
    command = worker_command(url, emulator.base_url, rate=args.rate, inflight=args.inflight)
    killed = await run_subprocess(emulator, command, kill_after=len(ids) * args.parts // 3)
    await run_subprocess(emulator, command, kill_after=None)
    return {
        "killed": killed,
        "seconds": round(time.perf_counter() - started, 2),
        "too_many_requests": emulator.stats.too_many_requests,
        **_fault_accounting(emulator, expected, await outcome(url)),
    }


def _fault_accounting(
    emulator: Emulator, expected: dict[int, list[str]], result: dict[str, Any]
) -> dict[str, int]:
    """Lost counts only chats still reachable: chats answering 403 are skipped by design."""
    gone = set(result["skipped_chat_ids"])
    reachable = {c: t for c, t in expected.items() if c not in gone}
    return {**accounting(emulator, reachable), "skipped_chats": result["rows"].get("skipped", 0)}


def postgres_server() -> str:
    """The PostgreSQL server the multi-worker bench creates its database on."""
    url = os.environ.get("PAPERBOY_BENCH_DATABASE_URL") or os.environ.get(
        "PAPERBOY_TEST_DATABASE_URL"
    )
    if not url:
        raise SystemExit("--db postgres needs PAPERBOY_BENCH_DATABASE_URL (or _TEST_) set")
    return url


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database on the server, dropped on exit."""
    server = make_url(server_url)
    name = f"{prefix}_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"CREATE DATABASE {name}")
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.close()


async def run_workers(commands: Sequence[list[str]]) -> list[int]:
    """Run worker processes side by side until all exit; their return codes."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    processes = [
        await asyncio.create_subprocess_exec(*c, env=env, stdout=asyncio.subprocess.DEVNULL)
        for c in commands
    ]
    try:
        return list(await asyncio.gather(*(p.wait() for p in processes)))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


def busiest_second(emulator: Emulator) -> int:
    """The most messages accepted within any one-second window (the overall cap is 30)."""
    times = sorted(t for chat in emulator.stats.sent_at.values() for t in chat)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def bench_postgres(args: argparse.Namespace) -> dict[str, Any]:
    """`limits` or `unlimited` with `--workers` processes sharing one PostgreSQL outbox."""
    if args.mode not in ("limits", "unlimited"):
        raise SystemExit("--db postgres supports the limits and unlimited modes")
    ids = chat_ids(args.private, args.groups)
    expected = expected_texts(ids, args.parts)
    limited = args.mode == "limits"
    async with scratch_database(postgres_server(), "paperboy_bench") as url:
        await seed(url, ids, parts=args.parts)
        emulator = Emulator(token=TOKEN, limits=limited, seed=args.seed)
        async with emulator.running(port=0):
            command = worker_command(
                url,
                emulator.base_url,
                rate=0.0,
                inflight=args.inflight,
                shared_rate=args.rate if limited else 0.0,
                multi=True,
            )
            started = time.perf_counter()
            codes = await run_workers([command] * args.workers)
            wall = time.perf_counter() - started
            figures: dict[str, Any] = {
                "workers": args.workers,
                "worker_exit_codes": codes,
                "messages_per_second": round(sustained_rate(emulator), 1),
                "wall_seconds_with_startup": round(wall, 2),
                "busiest_second": busiest_second(emulator),
                "too_many_requests": emulator.stats.too_many_requests,
                "violations": dict(emulator.stats.violations),
                "groups_over_20_per_minute": len(emulator.stats.groups_over(20)),
                **accounting(emulator, expected),
            }
        result = await outcome(url)
    figures.update(result, skipped_chat_ids=len(result["skipped_chat_ids"]))
    return {"bench": "broadcast", "mode": args.mode, "db": "postgres", "chats": len(ids), **figures}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__)
    parser.add_argument("mode", choices=["limits", "unlimited", "faults", "worker"])
    parser.add_argument("--private", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--parts", type=int, default=1, help="messages per digest")
    parser.add_argument("--rate", type=float, default=Limits().global_rate)
    parser.add_argument("--inflight", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db", help="sqlite or postgres (bench modes); the database URL (worker)", default=None
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (postgres)")
    parser.add_argument("--lease", type=float, default=600.0, help="worker: lease seconds")
    parser.add_argument("--shared-rate", type=float, default=0.0, help="worker: cluster rate")
    parser.add_argument("--multi", action="store_true", help="worker: others may be alive")
    parser.add_argument("--base-url", help="worker: Bot API base URL")
    parser.add_argument("--read-timeout", type=float, default=1.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen mode; print the JSON result line last."""
    args = parse_args(argv)
    if args.mode == "worker":
        result = asyncio.run(
            run_worker(
                args.db,
                args.base_url,
                rate=args.rate,
                inflight=args.inflight,
                read_timeout=args.read_timeout,
                lease=args.lease,
                shared_rate=args.shared_rate,
                multi=args.multi,
            )
        )
        print(json.dumps({"worker": result}), flush=True)
        return
    print(json.dumps(asyncio.run(bench(args))), flush=True)


if __name__ == "__main__":
    main()
