"""Korean analysis compared: Hangul bigrams vs kiwipiepy morphemes vs both, speed and quality.

Each analyser indexes title + authors + summary of every corpus paper into an in-memory FTS5
table (documents pre-analysed, unicode61 over the tokens), and answers the judged queries of
tests/search/relevance.json as an AND of per-word phrases (no glossary, no re-ranking), so only
the analysis differs. Prints papers/s of analysis and Recall@10 / nDCG@10 per kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench.search import DEFAULT_CORPUS, load_corpus
from storage.analysis import analyze, fold, stem, term_tokens
from tests.search.evaluation import evaluate, load_relevance

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

Analyser = Callable[[str], list[str]]
_KEEP = ("NNG", "NNP", "NNB", "NR", "NP", "SL", "SN", "SH", "XR", "VV", "VA")


def kiwi_analyser(kiwi: Kiwi) -> Analyser:
    """Content morphemes from kiwipiepy, folded and stemmed like our English tokens."""

    def run(text: str) -> list[str]:
        tokens = kiwi.tokenize(text)
        return [stem(fold(t.form)) for t in tokens if t.tag.startswith(_KEEP) and t.form.isalnum()]

    return run


def load_kiwi() -> Kiwi:
    """kiwipiepy's analyser; without the optional `bench` extra, exit with how to get it."""
    try:
        import kiwipiepy
    except ImportError:
        sys.exit(
            "bench.search_analysers needs kiwipiepy (a 105 MB model, optional): "
            "pip install -e '.[bench]' (make bench installs it)"
        )
    return kiwipiepy.Kiwi()


def query_bigrams(word: str) -> list[str]:
    """Our query analysis of one word (its main alternative)."""
    found = term_tokens(word)
    return found[0] if found else []


def build(documents: list[str], analyser: Analyser) -> tuple[sqlite3.Connection, float]:
    """An FTS5 table over the analysed documents; returns it and analysis papers/s."""
    started = time.perf_counter()
    analysed = [" ".join(analyser(doc)) for doc in documents]
    rate = len(documents) / (time.perf_counter() - started)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE d USING fts5(body, tokenize='unicode61 remove_diacritics 0')")
    db.executemany("INSERT INTO d(rowid, body) VALUES (?, ?)", enumerate(analysed))
    return db, rate


def searcher(
    db: sqlite3.Connection, ids: list[str], queries: list[Analyser]
) -> Callable[[str], Awaitable[list[str]]]:
    """Query function: each word must match one of the analysers' phrases."""

    async def run(query: str) -> list[str]:
        terms = []
        for word in query.replace('"', " ").split():
            alternatives = {" ".join(q(word)) for q in queries} - {""}
            if alternatives:
                terms.append("(" + " OR ".join(f'"{a}"' for a in sorted(alternatives)) + ")")
        if not terms:
            return []
        sql = "SELECT rowid FROM d WHERE d MATCH ? ORDER BY rank LIMIT 10"
        return [ids[row[0]] for row in db.execute(sql, (" AND ".join(terms),))]

    return run


def main() -> None:
    """Compare the analysers and print one JSON line last."""
    parser = argparse.ArgumentParser(prog="python -m bench.search_analysers", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    kiwi = kiwi_analyser(load_kiwi())  # first: without the extra, fail before any work
    papers = {p.arxiv_id: p for d in load_corpus(args.corpus) for p in d.papers}
    ids = list(papers)
    documents = [
        "\n".join([p.title, ", ".join(p.authors), *(b for s in p.summary for b in s.bullets)])
        for p in papers.values()
    ]

    def both(text: str) -> list[str]:
        return analyze(text) + kiwi(text)

    setups: dict[str, tuple[Analyser, list[Analyser]]] = {
        "bigrams": (analyze, [query_bigrams]),
        "kiwi": (kiwi, [kiwi]),
        "both": (both, [query_bigrams, kiwi]),
    }
    judged = [j for j in load_relevance() if j.kind not in ("author", "id")]
    result: dict[str, object] = {"bench": "search_analysers", "papers": len(ids)}
    for name, (analyser, query_analysers) in setups.items():
        db, rate = build(documents, analyser)
        summary, _ = asyncio.run(evaluate(searcher(db, ids, query_analysers), judged))
        result[name] = {"papers_per_s": round(rate, 1), **summary["overall"], "kinds": summary}
        print(f"{name}: {rate:.0f} papers/s analysed, {summary['overall']}", flush=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
