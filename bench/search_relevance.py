"""Relevance of the search on the real corpus: Recall@10 and nDCG@10 per kind, for the project's
set (tests/search/relevance.json), the blind set's dev and test splits (relevance_blind.json) and
the fresh held-out set (relevance_fresh.json, written after the blind test split had been run
several times), the third (relevance_third.json, written when the fresh dev split had been
read), the fourth (relevance_fourth.json, topics none of the others asks about) and the fifth
(relevance_fifth.json, written when all the others had been read), each split dev/test.
`--expansions [FILE]` expands the Korean queries as /search does with an operator's model
(bot.content.expansion), with a model's answers recorded in FILE (tests/search/
expansions_recorded.json) and replayed by the fake endpoint on loopback. `--keywords [FILE]`
gives every paper the keywords that model writes for it (bot.content.keywords; answers recorded
in tests/search/keywords_recorded.json), written into a copy of the archive (`FILE.keywords`
beside a `--keep FILE`), so the kept archive stays without them.

The archive holds every daily_papers_ko digest and the HF JSON days (`hf_api/`, `hf_api_b/`, whose
papers carry English abstracts); `--keep FILE` builds it once and reuses it. `--verbose` lists the
imperfect queries of each set (to tune on dev: never read the test split's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path

from bench.search import DEFAULT_CORPUS
from bot.content.ingest import expand
from tests.search.archive import load_archive
from tests.search.evaluation import (
    BLIND_FILE,
    EXPANSIONS_FILE,
    FIFTH_FILE,
    FOURTH_FILE,
    FRESH_FILE,
    KEYWORDS_FILE,
    RELEVANCE_FILE,
    THIRD_FILE,
    Judged,
    archive_search,
    evaluate,
    load_relevance,
    write_recorded_keywords,
)


def corpus_files(corpus: Path) -> list[str]:
    """The Markdown digests and HF JSON days of the corpus."""
    return expand(
        [str(corpus / "daily_papers_ko"), str(corpus / "hf_api"), str(corpus / "hf_api_b")]
    )


def relevance_sets() -> dict[str, list[Judged]]:
    """Every judged set by name: the project's, then each blind set's dev and test splits."""
    sets = {"project": load_relevance(RELEVANCE_FILE)}
    for name, path in (
        ("blind", BLIND_FILE),
        ("fresh", FRESH_FILE),
        ("third", THIRD_FILE),
        ("fourth", FOURTH_FILE),
        ("fifth", FIFTH_FILE),
    ):
        for split in ("dev", "test"):
            sets[f"{name}_{split}"] = load_relevance(path, split=split)
    return sets


async def measure(url: str, *, verbose: bool, expansions: Path | None = None) -> dict[str, object]:
    """Figures of every set on the archive at `url` (with a model's recorded expansions)."""
    sets = relevance_sets()
    figures: dict[str, object] = {}
    async with archive_search(url, expansions=expansions) as ours:
        for name, judged in sets.items():
            figures[name], per_query = await evaluate(ours, judged)
            if verbose and not name.endswith("_test"):
                misses = [(q, round(r, 2)) for q, r, _ in per_query if r < 1]
                print(name, "imperfect:", misses)
    return figures


def main() -> None:
    """Build (or reuse) the corpus archive, evaluate every set, print the JSON line last."""
    parser = argparse.ArgumentParser(prog="python -m bench.search_relevance", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this SQLite file")
    parser.add_argument("--url", help="evaluate an existing archive at this database URL instead")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--expansions",
        type=Path,
        nargs="?",
        const=EXPANSIONS_FILE,
        help="expand Korean queries with a model's recorded answers, replayed by the fake "
        f"endpoint (default file: {EXPANSIONS_FILE.name})",
    )
    parser.add_argument(
        "--keywords",
        type=Path,
        nargs="?",
        const=KEYWORDS_FILE,
        help="index every paper with a model's recorded keywords, replayed by the fake "
        f"endpoint, in a copy of the archive (default file: {KEYWORDS_FILE.name})",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperboy-relevance-") as folder:
        path = args.keep or Path(folder) / "corpus.sqlite3"
        url = args.url or f"sqlite+aiosqlite:///{path}"
        if args.url is None and not path.exists():
            asyncio.run(load_archive(url, corpus_files(args.corpus)))
        if args.keywords is not None:
            if args.url is None:
                with_keywords = path.with_name(path.name + ".keywords")
                if not with_keywords.exists():
                    shutil.copyfile(path, with_keywords)
                url = f"sqlite+aiosqlite:///{with_keywords}"
            report = asyncio.run(write_recorded_keywords(url, args.keywords))
            print("keywords", json.dumps(report.as_json()))
        figures = asyncio.run(measure(url, verbose=args.verbose, expansions=args.expansions))
    for name, by_kind in figures.items():
        print(name, json.dumps(by_kind))
    print(json.dumps({"bench": "search_relevance", **figures}))


if __name__ == "__main__":
    main()
