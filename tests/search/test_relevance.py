"""Search quality on the real corpus: our engine against plain FTS5 baselines, with floors."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.ingest import expand
from storage.db import create_engine, session_factory
from storage.models import Author, DigestEntry, PaperAuthor, StoredPaper
from storage.search import search_papers
from tests.conftest import PG_ENV, _PostgresServer, _run
from tests.search.archive import load_archive
from tests.search.evaluation import (
    BLIND_FILE,
    EXPANSIONS_FILE,
    FIFTH_FILE,
    FOURTH_FILE,
    FRESH_FILE,
    KEYWORDS_FILE,
    THIRD_FILE,
    Baseline,
    archive_search,
    evaluate,
    load_relevance,
    summary_text,
    write_recorded_keywords,
)

# Floors a little under the measured figures (see tests/search/README.md), so a regression fails.
OVERALL_RECALL_FLOOR = 0.9
KIND_RECALL_FLOOR = 0.8
OVERALL_NDCG_FLOOR = 0.85
BASELINE_MARGIN = 0.25  # ours must beat each baseline's overall Recall@10 by this much
# PostgreSQL ranks with ts_rank, not BM25: measured overall R@10 0.909, weakest kind (mixed) 0.79.
POSTGRES_KIND_RECALL_FLOOR = 0.75
# The blind sets (issue 15), a little under their measured Recall@10 and above what they were
# without round 8's related terms (storage.related_terms), so losing those fails here. Round 8:
# blind dev 0.896, test 0.945, weakest kind 0.87; fresh dev 0.939, test 0.846, weakest kind
# 0.802; third dev 0.905, test 0.854, weakest kind 0.824; the fourth set (topics none of the
# others asks about) dev 0.748, test 0.714, weakest kind 0.678. Without them (round 7): blind
# test 0.919, fresh test 0.795, third test 0.805, fourth dev 0.698, test 0.686.
BLIND_RECALL_FLOORS = {"dev": 0.87, "test": 0.925}
BLIND_KIND_RECALL_FLOOR = 0.8
FRESH_RECALL_FLOORS = {"dev": 0.9, "test": 0.82}
FRESH_KIND_RECALL_FLOOR = 0.78
THIRD_RECALL_FLOORS = {"dev": 0.87, "test": 0.87}
THIRD_KIND_RECALL_FLOOR = 0.8
FOURTH_RECALL_FLOORS = {"dev": 0.72, "test": 0.7}
FOURTH_KIND_RECALL_FLOOR = 0.65
# Round 11: the fifth set (written when every other set had been read) measured dev 0.869, test
# 0.761 before hyphenated Korean compounds were translated part by part (`텍스트-투-3D`), 0.884
# and 0.778 after (third test 0.854 → 0.881): the floors sit between, so losing it fails.
FIFTH_RECALL_FLOORS = {"dev": 0.875, "test": 0.77}
FIFTH_KIND_RECALL_FLOOR = 0.63  # test, Korean names of English topics: 0.653
# With a model's expansions (round 10: bot.content.expansion, the recorded answers replayed by
# the fake endpoint), a little under the measured figures and, where the expansion gained,
# above the figures without it, so an expansion that stops working fails here. Measured: blind
# dev 0.901, test 0.940; fresh 0.953, 0.861; third 0.910, 0.897; fourth 0.816, 0.773; weakest
# kind 0.749 (fourth test, Korean topic words). Without: fresh test 0.846, third test 0.854,
# fourth dev 0.760, test 0.720.
EXPANDED_RECALL_FLOORS = {
    "blind": {"dev": 0.89, "test": 0.93},
    "fresh": {"dev": 0.94, "test": 0.855},
    "third": {"dev": 0.9, "test": 0.885},
    "fourth": {"dev": 0.8, "test": 0.76},
    "fifth": {"dev": 0.885, "test": 0.84},  # measured 0.897, 0.853
}
EXPANDED_KIND_RECALL_FLOOR = 0.74
# With a model's keywords for every paper (round 13: bot.content.keywords, the recorded answers
# replayed through the real writer), alone and with the expansions, a little under the measured
# figures and above those without keywords. Measured, keywords alone: blind dev 0.904, test
# 0.964; fresh 0.949, 0.910; third 0.917, 0.941; fourth 0.848, 0.810; fifth 0.903, 0.807; weakest
# kind 0.678 (fifth test, Korean names of English topics). With the expansions too: blind 0.916,
# 0.968; fresh 0.941, 0.925; third 0.937, 0.960; fourth 0.882, 0.847; fifth 0.926, 0.902; weakest
# kind 0.819.
KEYWORD_RECALL_FLOORS = {
    "blind": {"dev": 0.89, "test": 0.95},
    "fresh": {"dev": 0.94, "test": 0.89},
    "third": {"dev": 0.91, "test": 0.92},
    "fourth": {"dev": 0.83, "test": 0.79},
    "fifth": {"dev": 0.89, "test": 0.79},
}
KEYWORD_KIND_RECALL_FLOOR = 0.66
KEYWORD_EXPANDED_RECALL_FLOORS = {
    "blind": {"dev": 0.905, "test": 0.955},
    "fresh": {"dev": 0.93, "test": 0.91},
    "third": {"dev": 0.925, "test": 0.945},
    "fourth": {"dev": 0.87, "test": 0.83},
    "fifth": {"dev": 0.91, "test": 0.885},
}
KEYWORD_EXPANDED_KIND_RECALL_FLOOR = 0.8
SETS = {
    "blind": BLIND_FILE,
    "fresh": FRESH_FILE,
    "third": THIRD_FILE,
    "fourth": FOURTH_FILE,
    "fifth": FIFTH_FILE,
}


@pytest.fixture(scope="module")
def corpus_url(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite archive holding every daily_papers_ko digest, ingested once for the module."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('corpus')}/corpus.sqlite3"
    asyncio.run(load_archive(url, expand([str(corpus_dir / "daily_papers_ko")])))
    return url


async def _documents(engine: AsyncEngine) -> list[tuple[str, str, str, str]]:
    """(id, title, authors, summary) raw text of every paper, for the baselines."""
    async with session_factory(engine)() as session:
        query_ = select(StoredPaper.arxiv_id, StoredPaper.title)
        papers = {r.arxiv_id: r.title for r in await session.execute(query_)}
        authors: dict[str, list[str]] = {}
        query = select(PaperAuthor.arxiv_id, Author.name).join(Author)
        for row in await session.execute(query):
            authors.setdefault(row.arxiv_id, []).append(row.name)
        bodies: dict[str, str] = {}
        for row in await session.execute(select(DigestEntry.arxiv_id, DigestEntry.summary)):
            bodies[row.arxiv_id] = summary_text(row.summary)
    return [
        (i, title, ", ".join(authors.get(i, ())), bodies.get(i, "")) for i, title in papers.items()
    ]


async def test_relevance_beats_baselines_and_floors(engine: AsyncEngine) -> None:
    """Recall@10 and nDCG@10 stay above the floors, per kind and well above both baselines."""
    judged = load_relevance()
    sessions = session_factory(engine)

    async def ours(query: str) -> list[str]:
        async with sessions() as session:
            return [hit.arxiv_id for hit in await search_papers(session, query=query, limit=10)]

    documents = await _documents(engine)
    results: dict[str, Any] = {}
    results["ours"], per_query = await evaluate(ours, judged)
    for name, tokenizer in (("unicode61", "unicode61"), ("trigram", "trigram")):
        baseline = Baseline(documents, tokenizer)

        async def run(query: str, baseline: Baseline = baseline) -> list[str]:
            return baseline.search(query)

        results[name], _ = await evaluate(run, judged)
    print(json.dumps(results, indent=1))
    misses = [(q, round(r, 2)) for q, r, _ in per_query if r < 1]
    print("imperfect:", misses)
    overall = results["ours"]["overall"]
    assert overall["recall@10"] >= OVERALL_RECALL_FLOOR, results["ours"]
    assert overall["ndcg@10"] >= OVERALL_NDCG_FLOOR, results["ours"]
    for kind, figures in results["ours"].items():
        assert figures["recall@10"] >= KIND_RECALL_FLOOR, (kind, figures, misses)
    for name in ("unicode61", "trigram"):
        baseline_recall = results[name]["overall"]["recall@10"]
        assert overall["recall@10"] >= baseline_recall + BASELINE_MARGIN, (name, results)


@pytest.fixture(scope="module")
def postgres_corpus_url(corpus_dir: Path, _postgres: _PostgresServer | None) -> Iterator[str]:
    """A PostgreSQL archive of every daily_papers_ko digest (skipped without PostgreSQL)."""
    if _postgres is None:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL search is tested in CI")
    name = f"pb_{_postgres.run_id}_relevance"
    _run(_postgres.execute(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
    url = _postgres.url_for(name)
    _run(load_archive(url, expand([str(corpus_dir / "daily_papers_ko")])))
    yield url
    _run(_postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def test_relevance_on_postgresql(postgres_corpus_url: str) -> None:
    """PostgreSQL's tsvector index, fed by the same analysis, keeps the same quality floors."""
    engine = create_engine(postgres_corpus_url)
    sessions = session_factory(engine)

    async def ours(query: str) -> list[str]:
        async with sessions() as session:
            return [hit.arxiv_id for hit in await search_papers(session, query=query, limit=10)]

    try:
        results, per_query = await evaluate(ours, load_relevance())
    finally:
        await engine.dispose()
    print(json.dumps(results, indent=1))
    misses = [(q, round(r, 2)) for q, r, _ in per_query if r < 1]
    assert results["overall"]["recall@10"] >= OVERALL_RECALL_FLOOR, (results, misses)
    assert results["overall"]["ndcg@10"] >= OVERALL_NDCG_FLOOR, results
    for kind, figures in results.items():
        assert figures["recall@10"] >= POSTGRES_KIND_RECALL_FLOOR, (kind, figures, misses)


@pytest.fixture(scope="module")
def full_corpus_url(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite archive of the daily_papers_ko digests and the HF JSON days (English abstracts)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('full')}/corpus.sqlite3"
    folders = [str(corpus_dir / name) for name in ("daily_papers_ko", "hf_api", "hf_api_b")]
    asyncio.run(load_archive(url, expand(folders)))
    return url


@pytest.mark.parametrize(
    ("name", "split"),
    [(name, split) for name in SETS for split in ("dev", "test")],
)
async def test_blind_relevance_floors(full_corpus_url: str, name: str, split: str) -> None:
    """The blind Korean-topic and Korean-to-English queries keep their floors on both splits
    of the five sets (the fresh, third, fourth and fifth written later, each by someone who
    had seen neither the engine's tables nor the other sets)."""
    engine = create_engine(full_corpus_url)
    sessions = session_factory(engine)

    async def ours(query: str) -> list[str]:
        async with sessions() as session:
            return [hit.arxiv_id for hit in await search_papers(session, query=query, limit=10)]

    path, floors, kind_floor = {
        "blind": (BLIND_FILE, BLIND_RECALL_FLOORS, BLIND_KIND_RECALL_FLOOR),
        "fresh": (FRESH_FILE, FRESH_RECALL_FLOORS, FRESH_KIND_RECALL_FLOOR),
        "third": (THIRD_FILE, THIRD_RECALL_FLOORS, THIRD_KIND_RECALL_FLOOR),
        "fourth": (FOURTH_FILE, FOURTH_RECALL_FLOORS, FOURTH_KIND_RECALL_FLOOR),
        "fifth": (FIFTH_FILE, FIFTH_RECALL_FLOORS, FIFTH_KIND_RECALL_FLOOR),
    }[name]
    try:
        results, _ = await evaluate(ours, load_relevance(path, split=split))
    finally:
        await engine.dispose()
    print(name, split, json.dumps(results))
    assert results["overall"]["recall@10"] >= floors[split], results
    for kind, figures in results.items():
        assert figures["recall@10"] >= kind_floor, (kind, figures)


@pytest.mark.parametrize(
    ("name", "split"),
    [(name, split) for name in SETS for split in ("dev", "test")],
)
async def test_expanded_relevance_floors(full_corpus_url: str, name: str, split: str) -> None:
    """With the operator's model expanding Korean queries (a model's recorded answers, through
    the real expander and the fake endpoint over HTTP), every set keeps its higher floors."""
    async with archive_search(full_corpus_url, expansions=EXPANSIONS_FILE) as ours:
        results, _ = await evaluate(ours, load_relevance(SETS[name], split=split))
    print(name, split, "expanded", json.dumps(results))
    assert results["overall"]["recall@10"] >= EXPANDED_RECALL_FLOORS[name][split], results
    for kind, figures in results.items():
        assert figures["recall@10"] >= EXPANDED_KIND_RECALL_FLOOR, (kind, figures)


@pytest.fixture(scope="module")
def keyword_corpus_url(full_corpus_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the full archive whose papers got a model's keywords (the recorded answers,
    through the real writer and the fake endpoint over HTTP)."""
    copy = tmp_path_factory.mktemp("keywords") / "corpus.sqlite3"
    shutil.copyfile(make_url(full_corpus_url).database or "", copy)
    url = f"sqlite+aiosqlite:///{copy}"
    report = asyncio.run(write_recorded_keywords(url, KEYWORDS_FILE))
    assert (report.written, report.failed) == (report.papers, 0), report
    return url


@pytest.mark.parametrize("expanded", [False, True], ids=["keywords", "keywords+expansions"])
@pytest.mark.parametrize(
    ("name", "split"),
    [(name, split) for name in SETS for split in ("dev", "test")],
)
async def test_keyword_relevance_floors(
    keyword_corpus_url: str, name: str, split: str, expanded: bool
) -> None:
    """With the model's keywords indexed (and its expansions), every set keeps its higher
    floors: keywords that stop being written, stored or indexed fail here."""
    expansions = EXPANSIONS_FILE if expanded else None
    async with archive_search(keyword_corpus_url, expansions=expansions) as ours:
        results, _ = await evaluate(ours, load_relevance(SETS[name], split=split))
    print(name, split, "keywords", "expanded" if expanded else "", json.dumps(results))
    floors = KEYWORD_EXPANDED_RECALL_FLOORS if expanded else KEYWORD_RECALL_FLOORS
    kind_floor = KEYWORD_EXPANDED_KIND_RECALL_FLOOR if expanded else KEYWORD_KIND_RECALL_FLOOR
    assert results["overall"]["recall@10"] >= floors[name][split], results
    for kind, figures in results.items():
        assert figures["recall@10"] >= kind_floor, (kind, figures)
