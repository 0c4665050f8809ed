"""The running bot's engine: a fixed pool of SQLite connections with a small page cache each."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import QueuePool, StaticPool

from storage.db import (
    SERVING_CONNECTIONS,
    SERVING_PAGE_CACHE_KIB,
    create_engine,
    serving_engine,
)


async def test_serving_engine_keeps_a_fixed_pool_of_small_connections(tmp_path: Path) -> None:
    """On a SQLite file, `paperboy run` keeps at most SERVING_CONNECTIONS connections (each a
    thread with its own page cache), none opened on demand beyond them; bulk work keeps
    SQLAlchemy's pool and SQLite's cache."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'archive.sqlite3'}"
    engine = serving_engine(url)
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow) == (SERVING_CONNECTIONS, 0)
        async with engine.connect() as connection:
            cache = await connection.scalar(text("PRAGMA cache_size"))
        assert cache == -SERVING_PAGE_CACHE_KIB
    finally:
        await engine.dispose()
    bulk = create_engine(url)
    try:
        assert isinstance(bulk.pool, QueuePool)
        assert bulk.pool._max_overflow > 0
    finally:
        await bulk.dispose()


async def test_serving_engine_in_memory_keeps_its_one_connection() -> None:
    """An in-memory database is one connection shared by all (pool options do not apply)."""
    engine = serving_engine("sqlite+aiosqlite://")
    try:
        assert isinstance(engine.pool, StaticPool)
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()
