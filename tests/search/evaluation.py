"""Relevance evaluation: the judged query set, Recall@10/nDCG@10, and plain-FTS5 baselines."""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.content.expansion import QueryExpander
from bot.content.keywords import KeywordReport, KeywordWriter
from bot.fakes.llm import FakeLLM
from storage.db import create_engine, session_factory, upgrade
from storage.search import SearchHit, search_papers

RELEVANCE_FILE = Path(__file__).with_name("relevance.json")
# Written blind and split dev/test (issue 15): see its `_about` and tests/search/README.md.
BLIND_FILE = Path(__file__).with_name("relevance_blind.json")
# Written blind later, by someone who had read neither the engine's tables nor the other sets,
# when the blind test split had been run too often to be untouched: all of it held out.
FRESH_FILE = Path(__file__).with_name("relevance_fresh.json")
# Written blind a third time (round 6), when the fresh set's dev split had been read: split by
# sha1 parity after one measurement of the whole set.
THIRD_FILE = Path(__file__).with_name("relevance_third.json")
# Written blind a fourth time (round 7) on topics none of the other sets asks about, measured
# once whole, then split by sha1 parity.
FOURTH_FILE = Path(__file__).with_name("relevance_fourth.json")
# Written blind a fifth time (round 11), on whatever topics its writer chose (39 of its 63
# query texts are another set's, judged afresh): measured once whole, then split by sha1 parity.
FIFTH_FILE = Path(__file__).with_name("relevance_fifth.json")
# A model's answers to the query-expansion prompt for every Korean query of the sets, replayed
# through the fake endpoint (see its `_about`).
EXPANSIONS_FILE = Path(__file__).with_name("expansions_recorded.json")
# A model's answers to the keyword prompt for every paper of the corpus archive, keyed by the
# digest of the user message they answered (see its `_about`).
KEYWORDS_FILE = Path(__file__).with_name("keywords_recorded.json")
K = 10


@dataclass(frozen=True, slots=True)
class Judged:
    """One query with its kind and the papers a researcher expects."""

    kind: str
    query: str
    expected: frozenset[str]
    split: str = ""  # "dev" or "test" in the blind set


def load_relevance(path: Path = RELEVANCE_FILE, *, split: str | None = None) -> list[Judged]:
    """The judged queries of a relevance file (only one split's, when `split` is given)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    judged = [
        Judged(q["kind"], q["query"], frozenset(q["expected"]), q.get("split", ""))
        for q in data["queries"]
    ]
    return [item for item in judged if split is None or item.split == split]


def recall_at_k(ranked: Sequence[str], expected: frozenset[str]) -> float:
    """Found expected papers in the top K over min(|expected|, K)."""
    return len(set(ranked[:K]) & expected) / min(len(expected), K)


def ndcg_at_k(ranked: Sequence[str], expected: frozenset[str]) -> float:
    """Binary-gain nDCG over the top K."""
    dcg = sum(1 / math.log2(i + 2) for i, item in enumerate(ranked[:K]) if item in expected)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(expected), K)))
    return dcg / ideal


def summarize(rows: Iterable[tuple[str, float, float]]) -> dict[str, dict[str, float]]:
    """Mean recall and nDCG per kind and overall from (kind, recall, ndcg) rows."""
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for kind, recall, ndcg in rows:
        groups[kind].append((recall, ndcg))
        groups["overall"].append((recall, ndcg))
    return {
        kind: {
            "recall@10": round(sum(r for r, _ in values) / len(values), 3),
            "ndcg@10": round(sum(n for _, n in values) / len(values), 3),
            "queries": len(values),
        }
        for kind, values in sorted(groups.items())
    }


async def evaluate(
    search: Callable[[str], Awaitable[list[str]]], judged: Sequence[Judged]
) -> tuple[dict[str, dict[str, float]], list[tuple[str, float, float]]]:
    """Run every judged query through `search` (query → ranked ids); summary and per-query rows."""
    rows = []
    per_query = []
    for item in judged:
        ranked = await search(item.query)
        recall, ndcg = recall_at_k(ranked, item.expected), ndcg_at_k(ranked, item.expected)
        rows.append((item.kind, recall, ndcg))
        per_query.append((item.query, recall, ndcg))
    return summarize(rows), per_query


class Baseline:
    """Plain FTS5 over raw title+authors+summary text, queried with simple quoted tokens."""

    def __init__(self, documents: Sequence[tuple[str, str, str, str]], tokenizer: str) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(arxiv_id UNINDEXED, title, authors, body, "
            f"tokenize='{tokenizer}')"
        )
        self.db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", documents)

    def search(self, query: str) -> list[str]:
        """Ids ranked by BM25 for the query's whitespace tokens, each quoted."""
        tokens = ['"' + token.replace('"', "") + '"' for token in query.split()]
        tokens = [token for token in tokens if token != '""']
        if not tokens:
            return []
        try:
            rows = self.db.execute(
                "SELECT arxiv_id FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10",
                (" ".join(tokens),),
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [row[0] for row in rows]


def summary_text(summary: Any) -> str:
    """Plain text of a stored summary JSON."""
    return "\n".join(
        "\n".join([str(part.get("title") or ""), *map(str, part.get("bullets", ()))])
        for part in summary or ()
    )


def recorded_expansions(path: Path = EXPANSIONS_FILE) -> dict[str, str]:
    """Query → the recorded answer of the model to the expansion prompt."""
    answers: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["answers"]
    return answers


def recorded_keywords(path: Path = KEYWORDS_FILE) -> dict[str, str]:
    """User-message key (`bot.fakes.llm.prompt_key`) → the model's recorded keyword answer."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {entry["key"]: entry["answer"] for entry in data["answers"].values()}


async def write_recorded_keywords(url: str, path: Path = KEYWORDS_FILE) -> KeywordReport:
    """Every paper of the archive at `url` gets its keywords through the real writer (HTTP, its
    table, its reindex) from the fake endpoint replaying the recorded answers."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with FakeLLM(keywords=recorded_keywords(path)).running() as fake:
            settings = load_settings(
                summary_api_base_url=fake.base_url,
                summary_model="recorded",
                summary_concurrency=8,
                _env_file=None,
            )
            async with KeywordWriter(settings, sessions=session_factory(engine)) as writer:
                return await writer.write()
    finally:
        await engine.dispose()


Search = Callable[[str], Awaitable[list[str]]]


Hits = Callable[[str], Awaitable[list[SearchHit]]]


@contextlib.asynccontextmanager
async def archive_hits(
    url: str, *, expansions: Path | None = None, limit: int = K
) -> AsyncIterator[Hits]:
    """query → its best `limit` hits on the archive at `url`; with `expansions`, each Korean
    query first goes through the real expander (HTTP, its cache table) to the fake endpoint
    replaying those recorded answers, as /search does with the operator's model."""
    await upgrade(url)  # an archive kept from before the expansion cache gets its table
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        expander = None
        if expansions is not None:
            fake = await stack.enter_async_context(
                FakeLLM(expansions=recorded_expansions(expansions)).running()
            )
            settings = load_settings(
                summary_api_base_url=fake.base_url, summary_model="recorded", _env_file=None
            )
            expander = QueryExpander.from_settings(settings, sessions)
            assert expander is not None
            stack.push_async_callback(expander.aclose)

        async def hits(query: str) -> list[SearchHit]:
            phrases = await expander.expand(query) if expander is not None else ()
            async with sessions() as session:
                return await search_papers(session, query=query, limit=limit, expansion=phrases)

        yield hits


@contextlib.asynccontextmanager
async def archive_search(url: str, *, expansions: Path | None = None) -> AsyncIterator[Search]:
    """query → top-10 ids on the archive at `url` (`archive_hits`)."""
    async with archive_hits(url, expansions=expansions) as hits:

        async def search(query: str) -> list[str]:
            return [hit.arxiv_id for hit in await hits(query)]

        yield search
