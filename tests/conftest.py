"""Fixtures shared by every test package (keep each one small; append new ones below)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared real-digest corpus (../shared/corpus); skipped if absent unless required."""
    folder = (REPO_ROOT / ".." / "shared" / "corpus").resolve()
    if not folder.is_dir():
        reason = f"corpus folder {folder} not found"
        if os.environ.get("PAPERBOY_REQUIRE_CORPUS") == "1":
            pytest.fail(f"{reason} and PAPERBOY_REQUIRE_CORPUS=1", pytrace=False)
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The verbatim real digests copied into tests/fixtures/."""
    return FIXTURES_DIR
