"""Multi-worker tests need PostgreSQL: a fresh database per test on PAPERBOY_TEST_DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from bench.broadcast import scratch_database

PG_ENV = "PAPERBOY_TEST_DATABASE_URL"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database, dropped afterwards; skipped without PostgreSQL."""
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.skip(f"several workers need PostgreSQL: set {PG_ENV} (.ci/run does)")
    async with scratch_database(server, "pb_multi") as url:
        yield url
