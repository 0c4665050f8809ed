"""`paperboy search`, `author` and `paper`: the same look-ups as /search, /author and /paper."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.config import Settings
from bot.digest.refs import parse_paper_ref
from handlers.lookup import featured_paper
from storage.author_search import search_authors
from storage.db import create_engine, session_factory, upgrade
from storage.papers import author_papers, get_paper, paper_days
from storage.search import search_papers


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
    return [
        {"arxiv_id": h.arxiv_id, "title": h.title, "score": h.score, "partial": h.partial}
        for h in hits
    ]


async def _authors(url: str, name: str, limit: int) -> list[dict[str, Any]]:
    """Authors matching `name`, each with their papers (best first)."""
    await upgrade(url)
    engine = create_engine(url)
    found: list[dict[str, Any]] = []
    try:
        async with session_factory(engine)() as session:
            for hit in await search_authors(session, query=name, limit=limit):
                papers = await author_papers(session, author_ids=hit.ids)
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
            some = "  [some words only]" if hit["partial"] else ""
            print(f"{rank:2}. {hit['arxiv_id']}  {hit['title']}  ({hit['score']:.2f}){some}")
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


def configure_paper(parser: argparse.ArgumentParser) -> None:
    """Arguments of `paperboy paper`."""
    parser.add_argument("ref", metavar="ID", help="an arXiv id or an arxiv.org / HF papers URL")
    parser.add_argument("--json", action="store_true", help="print a JSON object")


async def _paper(url: str, arxiv_id: str) -> dict[str, Any] | None:
    """The paper's metadata, Korean summary (with provenance), English texts and featured days."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            info = await get_paper(session, arxiv_id=arxiv_id)
            if info is None:
                return None
            days = await paper_days(session, arxiv_id=arxiv_id)
            entry = await featured_paper(session, arxiv_id=arxiv_id, days=days)
    finally:
        await engine.dispose()
    summary = entry.summary if entry else ()
    return {
        "arxiv_id": info.arxiv_id,
        "title": info.title,
        "link": info.link,
        "votes": info.latest_votes,
        "authors": list(info.authors),
        "authors_truncated": info.authors_truncated,
        "summary": [{"title": s.title, "bullets": list(s.bullets)} for s in summary],
        "summary_source": entry.summary_source if entry else None,
        "ai_summary": info.ai_summary,
        "abstract": info.abstract,
        "ai_keywords": list(info.ai_keywords),
        "github_repo": info.github_repo,
        "github_stars": info.github_stars,
        "project_page": info.project_page,
        "num_comments": info.num_comments,
        "submitter": info.submitter,
        "organization": info.organization,
        "days": [{"date": d.date.isoformat(), "votes": d.votes} for d in days],
    }


def run_paper(args: argparse.Namespace, settings: Settings) -> int:
    """`paperboy paper ID [--json]`: exit 1 when the id is malformed or not in the archive."""
    arxiv_id = parse_paper_ref(args.ref)
    if arxiv_id is None:
        print(f"paperboy: not an arXiv id or paper URL: {args.ref[:80]!r}", file=sys.stderr)
        return 1
    paper = asyncio.run(_paper(settings.database_url, arxiv_id))
    if paper is None:
        print(f"paperboy: {arxiv_id} is not in the archive", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(paper, ensure_ascii=False))
        return 0
    votes = "?" if paper["votes"] is None else paper["votes"]
    print(f"{paper['title']}\n{paper['link']}  votes: {votes}")
    print(", ".join(paper["authors"]) + (" …" if paper["authors_truncated"] else ""))
    if paper["summary"]:
        print(f"\nKorean summary ({paper['summary_source']}):")
    for section in paper["summary"]:
        if section["title"]:
            print(f"\n{section['title']}")
        print("\n".join(f"  - {bullet}" for bullet in section["bullets"]))
    if paper["ai_summary"]:
        print(f"\nEnglish summary: {paper['ai_summary']}")
    print("\nfeatured: " + ", ".join(day["date"] for day in paper["days"]))
    return 0
