"""A polled source serving a cut digest never replaces its day: the cut one is held back."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content.sources import Poller, parse_sources
from bot.fakes.hf import FakeHF
from storage.db import create_engine, session_factory
from storage.deliveries import readiness
from storage.papers import digest_for_date, digest_revisions, held_revisions
from tests.delivery.daykit import Clock, digest_text, sample_blocks, seoul
from tests.delivery.test_sources import Upstream, upstream  # noqa: F401  (the fixture)

D24 = dt.date(2025, 1, 24)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh migrated database."""
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_a_cut_markdown_file_is_held_with_a_warning(
    upstream: Upstream,  # noqa: F811
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Four papers, then the CDN serves one: stored, held, logged; the day still has four."""
    clock = Clock(seoul(24, 8))
    path = "/d/2025/01/24.md"
    upstream.bodies[path] = digest_text(D24, sample_blocks()[:4])
    sources = parse_sources([upstream.base + "/d/{date:%Y/%m/%d}.md"])
    async with Poller(sources, sessions=sessions, clock=clock) as poller:
        await poller.poll()
        upstream.bodies[path] = digest_text(D24, sample_blocks()[:1])
        clock.at(seoul(24, 8, 10))
        with caplog.at_level(logging.WARNING, logger="bot.content.sources"):
            cut = await poller.poll()
    assert (cut.held, cut.stored, cut.days) == (1, 0, set())
    assert any("held back" in record.getMessage() for record in caplog.records)
    async with sessions() as session:
        current = await digest_for_date(session, date=D24)
        held = await held_revisions(session)
        ready = await readiness(session, date=D24)
    assert current is not None
    assert current.paper_count == 4
    assert [(info.revision, info.paper_count) for info in held] == [(2, 1)]
    assert ready is not None
    assert (ready.paper_count, ready.last_changed_at) == (4, seoul(24, 8))


async def test_an_hf_list_shrinking_by_more_than_half_is_held_once(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """Six papers, then two: held; its votes moving again store no second held row."""
    fake = FakeHF()
    for number in range(6):
        fake.add_paper(D24, f"2501.4000{number}", f"Paper {number}", upvotes=number)
    fake.release(D24, 6)
    clock = Clock(dt.datetime(2025, 1, 24, 3, 0, tzinfo=dt.UTC))
    async with fake.running() as served:
        sources = parse_sources([served.url_template])
        async with Poller(sources, sessions=sessions, clock=clock) as poller:
            await poller.poll()
            served.release(D24, 2)
            clock.at(dt.datetime(2025, 1, 24, 3, 5, tzinfo=dt.UTC))
            with caplog.at_level(logging.WARNING, logger="bot.content.sources"):
                shrunk = await poller.poll()
            served.bump_votes(D24, by=3)
            clock.at(dt.datetime(2025, 1, 24, 3, 10, tzinfo=dt.UTC))
            again = await poller.poll()
    assert (shrunk.held, shrunk.stored, again.held, again.stored) == (1, 0, 1, 0)
    assert any("held back" in record.getMessage() for record in caplog.records)
    async with sessions() as session:
        revisions = await digest_revisions(session, date=D24)
    assert [(r.revision, r.is_latest, r.paper_count) for r in revisions] == [
        (1, True, 6),
        (2, False, 2),
    ]
