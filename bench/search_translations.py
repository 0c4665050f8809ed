"""Build storage/translations.json and storage/loanwords.json: Korean → English terms mined from
the corpus' bilingual papers (Korean summary, English title), see storage.translations and
storage.loanwords. Prints a JSON line last."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.search import DEFAULT_CORPUS, load_corpus
from storage import loanwords, translations


def main() -> None:
    """Mine the table from the corpus' Markdown digests and write it next to the module."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.search_translations", description=__doc__
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--out", type=Path, default=Path(translations.__file__).with_name("translations.json")
    )
    args = parser.parse_args()
    papers = {
        paper.arxiv_id: (
            " ".join(
                bullet for part in paper.summary for bullet in (part.title or "", *part.bullets)
            ),
            paper.title,
        )
        for digest in load_corpus(args.corpus)
        for paper in digest.papers
    }
    table = translations.build(papers.values())
    args.out.write_text(json.dumps(table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    loans = loanwords.build(papers.values())
    args.out.with_name("loanwords.json").write_text(
        json.dumps(loans, ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    figures = {"papers": len(papers), "entries": len(table), "loanwords": len(loans)}
    print(json.dumps({"bench": "search_translations", **figures}))


if __name__ == "__main__":
    main()
