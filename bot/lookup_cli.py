"""`paperboy search` and `paperboy author`: the same look-ups as /search and /author."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.config import Settings
from storage.db import create_engine, session_factory, upgrade
from storage.papers import author_papers
from storage.search import search_authors, search_papers


def configure_search(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy search`."""
    parser.add_argument("query", nargs="+", metavar="QUERY", help='words, "phrases", filters')
    parser.add_argument("--limit", type=int, default=10, help="how many results (default 10)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def configure_author(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy author`."""
    parser.add_argument("name", nargs="+", metavar="NAME", help="an author or organisation")
    parser.add_argument("--limit", type=int, default=5, help="how many authors (default 5)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


async def _search(url: str, query: str, limit: int) -> list[dict[str, Any]]:
    """Search papers in the database at `url`."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            hits = await search_papers(session, query=query, limit=limit)
    finally:
        await engine.dispose()
    return [{"arxiv_id": h.arxiv_id, "title": h.title, "score": h.score} for h in hits]


async def _authors(url: str, name: str, limit: int) -> list[dict[str, Any]]:
    """Authors matching `name`, each with their papers (best first)."""
    await upgrade(url)
    engine = create_engine(url)
    found: list[dict[str, Any]] = []
    try:
        async with session_factory(engine)() as session:
            for hit in await search_authors(session, query=name, limit=limit):
                papers = await author_papers(session, author_id=hit.author_id)
                found.append(
                    {
                        "author_id": hit.author_id,
                        "name": hit.name,
                        "paper_count": hit.paper_count,
                        "papers": [{"arxiv_id": p.arxiv_id, "title": p.title} for p in papers],
                    }
                )
    finally:
        await engine.dispose()
    return found


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy search QUERY [--limit N] [--json]`."""
    hits = asyncio.run(_search(settings.database_url, " ".join(args.query), args.limit))
    if args.json:
        print(json.dumps(hits, ensure_ascii=False))
    else:
        for rank, hit in enumerate(hits, 1):
            print(f"{rank:2}. {hit['arxiv_id']}  {hit['title']}  ({hit['score']:.2f})")
        if not hits:
            print("no papers found")
    return 0


def run_author(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy author NAME [--json]`."""
    found = asyncio.run(_authors(settings.database_url, " ".join(args.name), args.limit))
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
        return 0
    for author in found:
        print(f"{author['name']} ({author['paper_count']} papers)")
        for paper in author["papers"]:
            print(f"    {paper['arxiv_id']}  {paper['title']}")
    if not found:
        print("no authors found")
    return 0
