"""Both languages are indexed: the HF one-liner and keywords, and generated Korean summaries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest import SummarySection, parse_digest
from storage.db import create_engine, session_factory
from storage.digest_store import store_digest
from storage.search import search_papers
from storage.search_index import rebuild_index, reindex_papers
from storage.summaries import claim_summary, complete_summary

NOW = dt.datetime(2025, 1, 2, 9, 0, tzinfo=dt.UTC)
MODEL = "test-model"
DOCUMENTS = "SELECT arxiv_id, title_tokens, author_tokens, body_tokens FROM search_documents"
HF_DAY = json.dumps(
    [
        {
            "paper": {
                "id": "2501.00001",
                "title": "A Plain Title",
                "summary": "We study a general problem.",
                "ai_summary": "Zebrafish locomotion is decoded from sparse video.",
                "ai_keywords": ["quokka embeddings", "sparse video"],
                "upvotes": 3,
                "authors": [{"name": "Ada Lovelace"}],
            }
        },
        {
            "paper": {
                "id": "2501.00002",
                "title": "Another Plain Title",
                "summary": "We study another general problem.",
                "upvotes": 1,
                "authors": [],
            }
        },
    ]
)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on a fresh database holding a two-paper HF list day."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        digest = parse_digest(HF_DAY, source="2025-01-02.json")
        await store_digest(session, digest=digest, source="2025-01-02.json")
        await session.commit()
        yield session
    await engine.dispose()


async def _ids(session: AsyncSession, query: str) -> list[str]:
    """The arXiv ids `query` finds, best first."""
    return [hit.arxiv_id for hit in await search_papers(session, query=query)]


async def test_a_paper_is_found_through_its_ai_summary_and_keywords(session: AsyncSession) -> None:
    """Words only the HF one-line summary or the keywords hold find the paper."""
    assert await _ids(session, "zebrafish") == ["2501.00001"]
    assert await _ids(session, "locomotion decoded") == ["2501.00001"]
    assert await _ids(session, "quokka") == ["2501.00001"]
    assert await _ids(session, '"quokka embeddings"') == ["2501.00001"]


async def test_rows_written_at_ingest_equal_rebuilt_rows(session: AsyncSession) -> None:
    """The rows stored with the digest equal those rebuilt from the archive alone."""
    at_ingest = sorted((await session.execute(text(DOCUMENTS))).all())
    await rebuild_index(session)
    assert sorted((await session.execute(text(DOCUMENTS))).all()) == at_ingest


async def test_reindex_papers_adds_a_generated_summary(session: AsyncSession) -> None:
    """A done generated Korean summary is searchable once `reindex_papers` refreshed the paper."""
    outcome = await claim_summary(
        session,
        arxiv_id="2501.00002",
        model=MODEL,
        prompt_version=1,
        worker="w",
        now=NOW,
        lease=dt.timedelta(minutes=5),
        daily_cap=10,
    )
    assert outcome == "claimed"
    assert await complete_summary(
        session,
        arxiv_id="2501.00002",
        model=MODEL,
        prompt_version=1,
        worker="w",
        sections=(SummarySection(title="What's New", bullets=("펭귄 항법을 학습합니다.",)),),
        block="- 펭귄 항법을 학습합니다.",
        attempts=1,
        prompt_tokens=10,
        completion_tokens=10,
        now=NOW,
    )
    assert await _ids(session, "펭귄 항법") == []
    await reindex_papers(session, arxiv_ids=["2501.00002", "9999.99999"])
    assert await _ids(session, "펭귄 항법") == ["2501.00002"]
    assert await _ids(session, '"another general problem"') == ["2501.00002"]
    refreshed = sorted((await session.execute(text(DOCUMENTS))).all())
    await rebuild_index(session)
    assert sorted((await session.execute(text(DOCUMENTS))).all()) == refreshed
