"""The summarizer end to end: the fake endpoint over loopback HTTP and a real database."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.content.summarizer import PROMPT_VERSION, Summarizer
from storage.db import create_engine, session_factory
from storage.summaries import done_summaries, summary_stats
from tests.summarize.conftest import DAY, Archive, korean, papers

JUNK = ["refusal", "empty", "english", "chinese", "giant", "script", "jslink", "heading"]


async def test_valid_summaries_are_stored_with_provenance(archive: Archive) -> None:
    """Each paper gets validated Korean sections, its block, model, prompt version and tokens."""
    await archive.store(papers(3))
    async with archive.summarizer() as summarizer:
        report = await summarizer.summarize_days([DAY])
    assert (report.papers, report.summarized, report.failed, report.cached) == (3, 3, 0, 0)
    assert report.prompt_tokens == archive.fake.prompt_tokens > 0
    assert report.completion_tokens == archive.fake.completion_tokens > 0
    rows = await archive.rows()
    first = rows["2608.10000"]
    assert (first.state, first.model, first.prompt_version) == (
        "done",
        "fake-model",
        PROMPT_VERSION,
    )
    assert [s["title"] for s in first.sections] == [
        "What's New",
        "Technical Details",
        "Performance Highlights",
    ]
    assert first.block is not None
    assert first.block.startswith("### [EnvHarness: Awakening Static Worlds for Agent Training]")
    assert (first.attempts, first.lease_until, first.error) == (1, None, None)
    async with archive.sessions() as session:
        found = await done_summaries(session, arxiv_ids=["2608.10000", "2608.10001", "9999.99999"])
    assert set(found) == {"2608.10000", "2608.10001"}
    sections, model = found["2608.10000"]
    assert model == "fake-model"
    assert "EnvHarness" in sections[0].bullets[0]


async def test_papers_with_a_korean_digest_summary_are_skipped_when_missing_only(
    archive: Archive,
) -> None:
    """With missing_only, a paper a Markdown digest summarized in Korean is not asked for."""
    day = papers(3)
    await archive.store(day)
    await archive.store([korean(day[0])], markdown=True)
    async with archive.summarizer() as summarizer:
        missing = await summarizer.summarize_days([DAY])
        everything = await summarizer.summarize_days([DAY], missing_only=False)
    assert (missing.papers, missing.summarized) == (2, 2)
    assert (everything.papers, everything.summarized, everything.cached) == (3, 1, 2)
    assert archive.fake.calls["2608.10000"] == 1


@pytest.mark.parametrize("mode", JUNK)
async def test_junk_is_retried_once_then_failed(archive: Archive, mode: str) -> None:
    """A junk answer gets one more try; a second one fails the paper, which keeps its English."""
    await archive.store(papers(2))
    archive.fake.plan(mode, mode, arxiv_id="2608.10001")
    async with archive.summarizer() as summarizer:
        report = await summarizer.summarize_days([DAY])
    assert (report.summarized, report.failed) == (1, 1)
    assert archive.fake.calls["2608.10001"] == 2
    assert report.errors[0]["arxiv_id"] == "2608.10001"
    assert report.errors[0]["message"].startswith("rejected: ")
    row = (await archive.rows())["2608.10001"]
    assert (row.state, row.attempts, row.sections, row.lease_until) == ("failed", 2, [], None)
    async with archive.sessions() as session:
        stats = await summary_stats(session)
        assert "2608.10001" not in await done_summaries(session, arxiv_ids=["2608.10001"])
    assert (stats.done, stats.failed, stats.rejected) == (1, 1, 1)


async def test_another_papers_summary_is_rejected(archive: Archive) -> None:
    """Bullets about the previous paper (a mixed-up answer) are rejected for this one."""
    await archive.store(papers(2))
    archive.fake.plan("other", "other", arxiv_id="2608.10001")
    async with archive.summarizer(summary_concurrency=1) as summarizer:
        report = await summarizer.summarize_ids(["2608.10000", "2608.10001"])
    assert (report.summarized, report.failed) == (1, 1)
    assert report.errors == [
        {"arxiv_id": "2608.10001", "message": "rejected: about another paper (2608.10000)"}
    ]


async def test_one_junk_answer_then_a_good_one_is_kept(archive: Archive) -> None:
    """The retry after a rejected answer is kept when it passes."""
    await archive.store(papers(1))
    archive.fake.plan("english")
    async with archive.summarizer() as summarizer:
        report = await summarizer.summarize_days([DAY])
    assert (report.summarized, report.failed) == (1, 0)
    row = (await archive.rows())["2608.10000"]
    assert (row.state, row.attempts) == ("done", 2)


async def test_wrapped_answer_is_unwrapped(archive: Archive) -> None:
    """A code fence and a "Here is…" line around good bullets are stripped, not rejected."""
    await archive.store(papers(1))
    archive.fake.plan("wrapped")
    async with archive.summarizer() as summarizer:
        report = await summarizer.summarize_days([DAY])
    assert report.summarized == 1
    assert archive.fake.total_calls == 1


async def test_rate_limits_and_server_errors_are_retried(archive: Archive) -> None:
    """429 and 500 answers are retried by the client, and the paper still gets its summary."""
    await archive.store(papers(1))
    archive.fake.plan("429", "500")
    async with archive.summarizer() as summarizer:
        report = await summarizer.summarize_days([DAY])
    assert (report.summarized, report.failed) == (1, 0)
    assert archive.fake.calls["2608.10000"] == 3
    assert (await archive.rows())["2608.10000"].attempts == 1


async def test_timeout_fails_the_paper_for_a_while(archive: Archive) -> None:
    """A request that times out fails its paper (retried after a cool-down), not the run."""
    await archive.store(papers(2))
    archive.fake.plan("timeout", arxiv_id="2608.10000")
    settings = archive.settings()
    summarizer = Summarizer(settings, sessions=archive.sessions, timeout=0.3, max_retries=0)
    async with summarizer:
        report = await summarizer.summarize_days([DAY])
    assert (report.summarized, report.failed) == (1, 1)
    assert report.errors == [{"arxiv_id": "2608.10000", "message": "endpoint: timeout"}]
    row = (await archive.rows())["2608.10000"]
    assert row.state == "failed"
    assert row.lease_until is not None
    later = row.lease_until + dt.timedelta(seconds=1)
    retry = Summarizer(settings, sessions=archive.sessions, clock=lambda: later)
    async with retry:
        again = await retry.summarize_days([DAY])
    assert (again.summarized, again.cached) == (1, 1)


async def test_second_run_makes_no_calls(archive: Archive) -> None:
    """Summaries and final failures are cached: a second run asks for nothing."""
    await archive.store(papers(3))
    archive.fake.plan("empty", "empty", arxiv_id="2608.10002")
    async with archive.summarizer() as summarizer:
        await summarizer.summarize_days([DAY])
    calls = archive.fake.total_calls
    async with archive.summarizer() as summarizer:
        second = await summarizer.summarize_days([DAY])
    assert archive.fake.total_calls == calls
    assert (second.papers, second.cached, second.skipped, second.summarized) == (3, 2, 1, 0)


async def test_daily_cap_is_honoured(archive: Archive) -> None:
    """No more rows than SUMMARY_MAX_PER_DAY are created on one UTC day."""
    await archive.store(papers(5))
    async with archive.summarizer(summary_max_per_day=2, summary_concurrency=2) as summarizer:
        first = await summarizer.summarize_days([DAY])
        second = await summarizer.summarize_days([DAY])
    assert (first.summarized, first.capped) == (2, 3)
    assert (second.cached, second.capped) == (2, 3)
    assert archive.fake.total_calls == 2


async def test_two_workers_ask_for_each_paper_once(archive: Archive) -> None:
    """Two summarizers on separate engines over one day request every paper exactly once."""
    await archive.store(papers(12))
    archive.fake.latency = 0.05
    other_engine = create_engine(archive.url)
    try:
        first = archive.summarizer()
        second = archive.summarizer(sessions=session_factory(other_engine))
        async with first, second:
            reports = await asyncio.gather(
                first.summarize_days([DAY]), second.summarize_days([DAY])
            )
    finally:
        await other_engine.dispose()
    assert sum(r.summarized for r in reports) == 12
    assert all(r.failed == 0 for r in reports)
    assert archive.fake.duplicate_calls() == 0
    assert archive.fake.total_calls == 12
    assert {row.state for row in (await archive.rows()).values()} == {"done"}
