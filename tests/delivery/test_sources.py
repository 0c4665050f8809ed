"""Digest sources over real loopback HTTP: ETag/304, 404, retries on 5xx, the live HF list."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LIVE_HF_JSON_TEMPLATE, LIVE_MARKDOWN_TEMPLATE, load_settings
from bot.content.sources import (
    HF_PAGE,
    VOTE_DAYS,
    HttpPolicy,
    Poller,
    configured_sources,
    page_url,
    parse_sources,
    poll_dates,
    sample_folder,
    source_kind,
)
from bot.fakes.hf import FakeHF
from storage.db import create_engine, session_factory
from storage.deliveries import all_polls, readiness
from storage.papers import digest_for_date, digest_revisions, get_paper
from storage.votes import vote_history
from tests.delivery.daykit import Clock, digest_text, sample_blocks, seoul

D24 = dt.date(2025, 1, 24)
SECRET = "s3cr3t-value"


@dataclass
class Upstream:
    """A loopback HTTP server whose answers per path the test sets."""

    bodies: dict[str, str] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Fail as planned, answer 304 when the ETag matches, 404 when unknown."""
        path = request.path
        self.seen.append((path, request.headers.get("If-None-Match")))
        planned = self.failures.get(path)
        if planned:
            return web.Response(status=planned.pop(0), text="upstream trouble")
        if path not in self.bodies:
            return web.Response(status=404, text="not found")
        etag = f'"{abs(hash(self.bodies[path]))}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304)
        return web.Response(text=self.bodies[path], headers={"ETag": etag})


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    """The upstream server on a free loopback port."""
    server = Upstream()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh migrated database."""
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@dataclass
class Sleeps:
    """The injected sleep: records delays instead of waiting."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        """Note the delay."""
        self.delays.append(seconds)


def test_kinds_and_defaults() -> None:
    """Paths are folders, the HF list is JSON and comes first live; defaults differ offline."""
    assert source_kind("/tmp/x") == "folder"
    assert source_kind(LIVE_HF_JSON_TEMPLATE) == "hf_json"
    assert source_kind(LIVE_MARKDOWN_TEMPLATE) == "template"
    settings = load_settings(_env_file=None)
    live = configured_sources(settings, live=True)
    assert [(s.kind, s.location) for s in live] == [
        ("hf_json", LIVE_HF_JSON_TEMPLATE),
        ("template", LIVE_MARKDOWN_TEMPLATE),
    ]
    offline = configured_sources(settings, live=False)
    assert [(s.kind, s.location) for s in offline] == [("folder", sample_folder())]


def test_poll_days_follow_each_sources_clock() -> None:
    """The HF list is asked for HF's (UTC) today and the week before; Markdown for KST's two."""
    late_evening_utc = dt.datetime(2025, 1, 24, 23, 30, tzinfo=dt.UTC)  # 08:30 KST on the 25th
    hf_days = poll_dates(late_evening_utc, "hf_json")
    assert hf_days[-1] == D24
    assert hf_days[0] == D24 - dt.timedelta(days=VOTE_DAYS)
    assert poll_dates(late_evening_utc, "template") == [D24, D24 + dt.timedelta(days=1)]
    assert page_url("http://x/api/daily_papers?date=2025-01-24", 0).endswith("&limit=100")
    assert page_url("http://x/api/daily_papers?date=2025-01-24", 2).endswith("&limit=100&p=2")
    assert page_url("http://x/a?date=1&limit=5", 1) == "http://x/a?date=1&limit=5&p=1"


async def test_etag_then_304_and_404_is_not_an_error(
    upstream: Upstream, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The first poll stores the digest; the next sends the ETag and gets 304; 404 is quiet."""
    clock = Clock(seoul(24, 8))
    upstream.bodies["/d/2025/01/24.md"] = digest_text(D24, sample_blocks()[:3])
    sources = parse_sources([upstream.base + "/d/{date:%Y/%m/%d}.md"])
    async with Poller(sources, sessions=sessions, clock=clock) as poller:
        first = await poller.poll()
        second = await poller.poll()
    assert (first.stored, first.missing, first.failed) == (1, 1, 0)  # yesterday: 404
    assert (second.stored, second.fetched) == (0, 0)
    etags = [etag for path, etag in upstream.seen if path.endswith("24.md")]
    assert etags[0] is None
    assert etags[1] is not None
    async with sessions() as session:
        polls = {poll.source: poll for poll in await all_polls(session)}
        ready = await readiness(session, date=D24)
    assert polls[upstream.base + "/d/2025/01/23.md"].last_status == "404"
    assert polls[upstream.base + "/d/2025/01/23.md"].last_error is None
    assert polls[upstream.base + "/d/2025/01/24.md"].last_status == "304"
    assert ready is not None
    assert ready.paper_count == 3


async def test_server_errors_are_retried_with_backoff(
    upstream: Upstream, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Two 503s are retried (the injected sleep sees the backoff), then the digest is stored."""
    upstream.bodies["/d/2025/01/24.md"] = digest_text(D24, sample_blocks()[:2])
    upstream.failures["/d/2025/01/24.md"] = [503, 502]
    sleeps = Sleeps()
    sources = parse_sources([upstream.base + "/d/{date:%Y/%m/%d}.md"])
    policy = HttpPolicy(attempts=3, backoff=1.0)
    async with Poller(
        sources, sessions=sessions, clock=Clock(seoul(24, 8)), policy=policy, sleep=sleeps
    ) as poller:
        report = await poller.poll()
    assert report.stored == 1
    assert sleeps.delays == [1.0, 2.0]


async def test_persistent_failure_logs_one_line_without_secrets(
    upstream: Upstream,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A source failing every attempt is logged once, redacted, and recorded as an error."""
    upstream.failures["/d/2025/01/24.md"] = [500, 500, 500]
    template = upstream.base + "/d/{date:%Y/%m/%d}.md?token=" + SECRET
    sources = parse_sources([template])
    with caplog.at_level(logging.WARNING, logger="bot.content.sources"):
        async with Poller(
            sources, sessions=sessions, clock=Clock(seoul(24, 8)), sleep=Sleeps()
        ) as poller:
            report = await poller.poll()
    assert report.failed == 1
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1
    assert "HTTP 500" in lines[0]
    assert SECRET not in lines[0]
    async with sessions() as session:
        polls = await all_polls(session)
    failed = [poll for poll in polls if poll.last_error]
    assert len(failed) == 1
    assert SECRET not in failed[0].source
    assert failed[0].failures == 1


async def test_hf_list_is_live_grows_and_keeps_its_votes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The HF list is stored as it grows; votes alone move no revision but enter the history."""
    fake = FakeHF()
    for number in range(3):
        fake.add_paper(D24, f"2501.1000{number}", f"Paper {number}", upvotes=10 - number)
    fake.release(D24, 2)
    clock = Clock(dt.datetime(2025, 1, 24, 3, 0, tzinfo=dt.UTC))
    async with fake.running() as served:
        sources = parse_sources([served.url_template])
        async with Poller(sources, sessions=sessions, clock=clock) as poller:
            first = await poller.poll()
            served.bump_votes(D24, by=5)
            clock.at(dt.datetime(2025, 1, 24, 3, 5, tzinfo=dt.UTC))
            votes_only = await poller.poll()
            served.release(D24)
            clock.at(dt.datetime(2025, 1, 24, 3, 10, tzinfo=dt.UTC))
            grown = await poller.poll()
    assert (first.stored, first.new_papers, first.days) == (1, 2, {D24})
    assert (votes_only.stored, votes_only.votes, votes_only.days) == (0, 2, set())
    assert (grown.stored, grown.new_papers) == (1, 1)
    assert served.count(date=D24 - dt.timedelta(days=VOTE_DAYS)) == 3  # the week is asked too
    async with sessions() as session:
        revisions = await digest_revisions(session, date=D24)
        paper = await get_paper(session, arxiv_id="2501.10000")
        history = await vote_history(session, arxiv_id="2501.10000")
        ready = await readiness(session, date=D24)
    assert [info.paper_count for info in revisions] == [2, 3]
    assert paper is not None
    assert paper.latest_votes == 15
    assert [votes for _, votes in history] == [10, 15]
    assert ready is not None
    assert ready.paper_count == 3


async def test_hf_list_is_read_page_by_page(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A day longer than one page is fetched whole; a page that fails stores nothing."""
    fake = FakeHF()
    for number in range(HF_PAGE + 20):
        fake.add_paper(D24, f"2501.{20000 + number}", f"Paper {number}", upvotes=number)
    clock = Clock(dt.datetime(2025, 1, 24, 3, 0, tzinfo=dt.UTC))
    async with fake.running() as served:
        sources = parse_sources([served.url_template])
        async with Poller(sources, sessions=sessions, clock=clock) as poller:
            report = await poller.poll()
    async with sessions() as session:
        info = await digest_for_date(session, date=D24)
    assert report.failed == 0
    assert info is not None
    assert info.paper_count == HF_PAGE + 20


async def test_hf_list_faults_lose_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    """429s are retried, a truncated list keeps what it can read, a 500 is logged and retried."""
    fake = FakeHF()
    for number in range(4):
        fake.add_paper(D24, f"2501.3000{number}", f"Paper {number}", upvotes=number)
    clock = Clock(dt.datetime(2025, 1, 24, 3, 0, tzinfo=dt.UTC))
    sleeps = Sleeps()
    async with fake.running() as served:
        served.fail(429, times=2)
        sources = parse_sources([served.url_template])
        policy = HttpPolicy(attempts=3, backoff=0.01)
        async with Poller(
            sources, sessions=sessions, clock=clock, policy=policy, sleep=sleeps
        ) as poller:
            report = await poller.poll()
    async with sessions() as session:
        info = await digest_for_date(session, date=D24)
    assert len(sleeps.delays) == 2
    assert report.failed == 0
    assert info is not None
    assert info.paper_count == 4


async def test_folder_picks_up_new_and_changed_files(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """A folder source stores new files, then only what changed, and observes readiness."""
    folder = tmp_path / "in"
    (folder / "2025" / "01").mkdir(parents=True)
    path = folder / "2025" / "01" / "24.md"
    path.write_text(digest_text(D24, sample_blocks()[:2]), encoding="utf-8")
    (folder / "README.md").write_text("# not a digest", encoding="utf-8")
    clock = Clock(seoul(24, 8))
    async with Poller(parse_sources([str(folder)]), sessions=sessions, clock=clock) as poller:
        first = await poller.poll()
        path.write_text(digest_text(D24, sample_blocks()[:4]), encoding="utf-8")
        clock.at(seoul(24, 8, 10))
        second = await poller.poll()
    assert (first.stored, first.failed) == (1, 0)
    assert second.stored == 1
    async with sessions() as session:
        ready = await readiness(session, date=D24)
    assert ready is not None
    assert (ready.paper_count, ready.last_changed_at) == (4, seoul(24, 8, 10))
