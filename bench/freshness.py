"""Freshness: from a paper appearing in the HF list to a Korean chat receiving it, summarized.

`paperboy run` as a real process, against loopback fakes of everything outside: the Telegram
Bot API emulator, the HF daily-papers list and an OpenAI-compatible endpoint. A private Korean
chat subscribes (its time, 00:00, has passed); papers then appear in today's list, and the clock
runs until the chat holds a message with their generated Korean summary. The issue's budget is
settle time + poll interval + 2 minutes.

    python -m bench.freshness [--settle MIN] [--poll MIN]   (defaults 1 and 1, as the issue asks)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.emulator import Emulator
from bot.fakes.hf import FakeHF
from bot.fakes.llm import FakeLLM

TOKEN = "5151515151:freshness-bench-token-abcdefghijkl"
CHAT = 5151
TITLES = (
    "Sparse Mixture of Retrieval Experts for Long Context",
    "Diffusion Policies That Plan With Language",
    "Scaling Laws for Korean Instruction Tuning",
)


@dataclass(frozen=True, slots=True)
class Freshness:
    """One measurement."""

    settle_min: float
    poll_min: float
    latency_s: float
    budget_s: float
    summarized: bool
    within_budget: bool


def _environment(
    folder: Path, emulator: Emulator, hf: FakeHF, llm: FakeLLM, *, settle: float, poll: float
) -> dict[str, str]:
    """The bot's settings: every remote service a loopback fake."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'fresh.sqlite3'}",
        "DIGEST_SOURCES": hf.url_template,
        "SUMMARY_API_BASE_URL": llm.base_url,
        "SUMMARY_MODEL": "fake-korean-1",
        "DIGEST_SETTLE": str(settle),
        "DIGEST_POLL_INTERVAL": str(poll),
        "DEFAULT_DELIVERY_TIME": "00:00",
        "DEFAULT_TIMEZONE": "Asia/Seoul",
        "LOG_LEVEL": "WARNING",
    }


def _delivered(emulator: Emulator) -> bool:
    """The chat holds a digest with every paper and a generated Korean summary."""
    text = "\n".join(emulator.texts(CHAT))
    return all(title in text for title in TITLES) and "소개합니다" in text


async def measure(*, settle: float, poll: float, within: float = 900.0) -> Freshness:
    """Run the bot, subscribe a chat, publish papers, and time their arrival in the chat."""
    emulator, hf, llm = Emulator(token=TOKEN), FakeHF(), FakeLLM()
    with tempfile.TemporaryDirectory() as folder:
        async with emulator.running(port=0), hf.running(), llm.running():
            env = _environment(Path(folder), emulator, hf, llm, settle=settle, poll=poll)
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from bot.cli.commands import main; raise SystemExit(main(['run']))",
                env=env,
                cwd=folder,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                emulator.send_text(
                    chat_id=CHAT, user_id=CHAT, text="/subscribe", language_code="ko"
                )
                await emulator.wait_for(lambda: bool(emulator.texts(CHAT)), within=60)
                today = dt.datetime.now(dt.UTC).date()
                started = time.monotonic()
                for number, title in enumerate(TITLES):
                    abstract = f"We present {title.split()[0]}, a method evaluated on benchmarks."
                    hf.add_paper(
                        today,
                        f"2612.{90001 + number}",
                        title,
                        upvotes=30 - number,
                        authors=("Ada Kim", "Bo Lee"),
                        summary=abstract,
                    )
                try:
                    await emulator.wait_for(lambda: _delivered(emulator), within=within)
                    summarized = True
                except TimeoutError:
                    summarized = False
                latency = time.monotonic() - started
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
            if not summarized:
                print(stderr.decode()[-3000:], file=sys.stderr)
    budget = (settle + poll) * 60 + 120
    return Freshness(
        settle, poll, round(latency, 1), budget, summarized, summarized and latency <= budget
    )


def main() -> None:
    """Print one JSON object as the last line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=1.0, help="DIGEST_SETTLE, minutes")
    parser.add_argument("--poll", type=float, default=1.0, help="DIGEST_POLL_INTERVAL, minutes")
    args = parser.parse_args()
    result = asyncio.run(measure(settle=args.settle, poll=args.poll))
    print(json.dumps({"bench": "freshness", **asdict(result)}))


if __name__ == "__main__":
    main()
