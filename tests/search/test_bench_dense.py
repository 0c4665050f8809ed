"""`bench.search_dense`: its fusion rule, and a run end to end against the fake embeddings
endpoint on loopback (vectors kept in a file: a second run asks for none)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path

from bench.search_dense import fuse
from bot.fakes.llm import FakeLLM
from storage.search import SearchHit

ROOT = Path(__file__).resolve().parents[2]
SETS = {"project"} | {f"{name}_{split}" for name in ("blind", "fresh", "third", "fourth", "fifth")
                      for split in ("dev", "test")}  # fmt: skip


def _hit(arxiv_id: str, score: float, *, partial: bool = False) -> SearchHit:
    return SearchHit(arxiv_id, arxiv_id, score, None, dt.date(2024, 1, 1), partial=partial)


def test_fusion_adds_the_nearest_papers_rescaled_similarity() -> None:
    lexical = [_hit("a", 10.0), _hit("b", 9.0), _hit("c", 8.0, partial=True)]
    dense = [("c", 0.9), ("d", 0.8), ("b", 0.7), ("e", 0.5)]
    # Weight 0 keeps the lexical scores (a loose-fallback hit at 0.3 of its own).
    assert fuse(lexical, dense, 0.0) == ["a", "b", "c"]
    # The nearest adds the whole weight, the NEAREST-th nothing: b (0.9 + 0.5 × 0.5) passes a.
    assert fuse(lexical, dense, 0.5) == ["b", "a", "c", "d", "e"]
    # At a large weight the vectors lead: the partial c, nearest, passes every lexical hit,
    # and d, which only they find, passes a.
    assert fuse(lexical, dense, 2.0) == ["c", "b", "d", "a", "e"]


async def _run(*args: str) -> tuple[int | None, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.search_dense",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def _run_bench(*args: str) -> dict[str, object]:
    code, out, err = await _run(*args)
    assert code == 0, err
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


async def test_the_bench_embeds_once_and_reports_every_set(
    corpus_dir: Path, tmp_path: Path
) -> None:
    async with FakeLLM().running() as fake:
        args = ["--url", fake.base_url, "--model", "fake", "--corpus", str(corpus_dir)]
        args += ["--keep", str(tmp_path / "corpus.sqlite3")]
        args += ["--vectors", str(tmp_path / "vectors.npz"), "--weights", "0,0.1"]
        first = await _run_bench(*args)
        embedded = fake.embedded
        second = await _run_bench(*args)
        assert fake.embedded == embedded  # every paper and query came from the file
    # Another model's vectors are not in the file; with the endpoint gone, one clear line.
    code, _, err = await _run(*args[:3], "other", *args[4:])
    assert code == 1
    assert err.strip() == "the embeddings endpoint failed: ConnectError"
    # Every paper of the corpus and every query text was embedded once.
    assert embedded > 2000
    assert first == second
    assert set(first) == {"bench", "model"} | SETS
    for name in SETS:
        figures = first[name]
        assert isinstance(figures, dict)
        assert set(figures) == {"lexical", "dense", "fused 0.0", "fused 0.1"}
        assert all(0.0 <= value <= 1.0 for value in figures.values())
    # The lexical side is /search's own: its figure is the relevance bench's.
    project = first["project"]
    assert isinstance(project, dict)
    assert project["lexical"] > 0.9
