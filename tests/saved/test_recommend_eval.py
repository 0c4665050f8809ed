"""The offline evaluation runs on a small archive and produces every figure."""

from __future__ import annotations

import pytest

from bench.recommend_eval import SVM_GRID, evaluate, load


@pytest.mark.timeout(600)
async def test_evaluation_on_the_sample_archive(seeded_database_url: str) -> None:
    """Every ranker gets a hit rate in [0, 1] for each split and kind that has readers."""
    archive = await load(seeded_database_url)
    figures = evaluate(archive)
    assert figures["k"] == 3
    published = figures["published"]
    assert isinstance(published, dict)
    assert published["c"] in SVM_GRID
    assert published["features"] in archive.published
    for name, value in figures.items():
        if isinstance(value, dict) and "readers" in value:
            rankers = ("votes", "published", "svm", "foryou")
            assert all(0.0 <= value[r] <= 1.0 for r in rankers), name
