"""Fixtures for summarizer tests: an archive of one day's papers and the fake model endpoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings, load_settings
from bot.content.summarizer import Summarizer
from bot.digest import Digest, Paper, SummarySection
from bot.fakes.llm import FakeLLM
from storage.db import create_engine, session_factory
from storage.digest_store import store_digest
from storage.models import GeneratedSummary

DAY = dt.date(2026, 8, 21)
# Distinct papers: each has terms no other one has, as real papers of a day do.
TOPICS = [
    (
        "EnvHarness: Awakening Static Worlds for Agent Training",
        "We turn static benchmarks into interactive environments for RL agents.",
    ),
    (
        "MangaNinja: Line Art Colorization with Precise Reference Following",
        "Reference-based colorization of manga sketches with patch shuffling and PointNet control.",
    ),
    (
        "Padding Tone: Padding Tokens in Text-to-Image Diffusion",
        "A mechanistic analysis of padding tokens via causal mediation in FLUX.",
    ),
    (
        "Lightning Attention at Scale: MiniMax Foundation Models",
        "Hybrid lightning attention with mixture-of-experts reaches million-token context windows.",
    ),
    (
        "InstructCell: A Multimodal Copilot for Single-Cell Analysis",
        "Natural-language instructions paired with scRNA-seq profiles train a Q-Former cell model.",
    ),
    (
        "Diffusion Adversarial Post-Training for One-Step Video Generation",
        "Adversarial post-training turns a DiT video diffuser into a realtime one-step generator.",
    ),
]


def papers(count: int, *, start: int = 0) -> list[Paper]:
    """`count` distinct papers with abstracts and no Korean summary (as the HF list gives)."""
    found = []
    for index in range(start, start + count):
        title, abstract = TOPICS[index % len(TOPICS)]
        suffix = f" {index // len(TOPICS)}" if index >= len(TOPICS) else ""
        arxiv_id = f"2608.{10000 + index:05d}"
        found.append(
            Paper(
                arxiv_id=arxiv_id,
                title=title + suffix,
                link=f"https://arxiv.org/abs/{arxiv_id}",
                votes=40 - index,
                authors=("Ada Lovelace", f"Author {index}"),
                abstract=abstract,
                ai_keywords=("benchmark", title.split(":")[0]),
            )
        )
    return found


@dataclass
class Archive:
    """A migrated database holding papers, and how to summarize them."""

    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    fake: FakeLLM

    async def store(
        self, items: Sequence[Paper], *, day: dt.date = DAY, markdown: bool = False
    ) -> None:
        """Store a digest of `items` for `day` (HF JSON, or Markdown with Korean summaries)."""
        digest = Digest(
            date=day,
            source="test",
            format="markdown" if markdown else "hf_json",
            papers=tuple(items),
        )
        async with self.sessions.begin() as session:
            await store_digest(session, digest=digest, source=f"test-{digest.format}")

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing at this database and the fake endpoint."""
        values: dict[str, Any] = {
            "database_url": self.url,
            "summary_api_base_url": self.fake.base_url,
            "summary_model": "fake-model",
            "summary_concurrency": 4,
            **overrides,
        }
        return load_settings(_env_file=None, **values)

    def summarizer(
        self, *, sessions: async_sessionmaker[AsyncSession] | None = None, **overrides: Any
    ) -> Summarizer:
        """A Summarizer with a short timeout and fast client retries."""
        return Summarizer(
            self.settings(**overrides),
            sessions=sessions or self.sessions,
            timeout=2.0,
            max_retries=2,
        )

    async def rows(self) -> dict[str, GeneratedSummary]:
        """Every summaries row by arXiv id."""
        async with self.sessions() as session:
            found = await session.scalars(select(GeneratedSummary))
            return {row.arxiv_id: row for row in found}


def korean(paper: Paper) -> Paper:
    """`paper` with a Korean summary, as a daily_papers_ko digest gives it."""
    bullets = ("이 논문은 새로운 방법을 제안합니다.",)
    return paper.model_copy(
        update={"summary": (SummarySection(title="What's New", bullets=bullets),)}
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeLLM]:
    """The fake model endpoint on loopback."""
    async with FakeLLM().running() as server:
        yield server


@pytest.fixture
async def archive(database_url: str, fake: FakeLLM) -> AsyncIterator[Archive]:
    """A fresh database and the fake endpoint, with nothing stored yet."""
    engine = create_engine(database_url)
    try:
        yield Archive(database_url, engine, session_factory(engine), fake)
    finally:
        await engine.dispose()
