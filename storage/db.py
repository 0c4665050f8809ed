"""Engine, sessions and Alembic upgrades; SQLite gets WAL and sane pragmas on every connection."""

from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Turn on WAL, a busy timeout, foreign keys and NORMAL sync for a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _json_dumps(value: Any) -> str:
    """JSON text for JSON columns, with non-ASCII characters kept as they are."""
    return json.dumps(value, ensure_ascii=False)


def _sqlite_file(parsed: URL) -> bool:
    """Whether `parsed` names a SQLite database file (not an in-memory one)."""
    return (
        parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and parsed.query.get("mode") != "memory"
    )


def _ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file (e.g. ./data/) so the first run works."""
    parsed = make_url(url)
    if _sqlite_file(parsed):
        Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)


def driver_url(url: str) -> URL:
    """`url` as the driver takes it: libpq's `sslmode=` (what hosting providers hand out)
    becomes asyncpg's `ssl=`, which takes the same modes; asyncpg refuses `sslmode` itself."""
    parsed = make_url(url)
    mode = parsed.query.get("sslmode")
    if parsed.get_backend_name() != "postgresql" or mode is None:
        return parsed
    parsed = parsed.difference_update_query(["sslmode"])
    return parsed if "ssl" in parsed.query else parsed.update_query_dict({"ssl": mode})


# The running bot's SQLite connections: each is a thread (aiosqlite) with its own page cache
# (SQLite's default: 2,000 KiB) and its own copy of the schema (~160 KiB). SQLAlchemy's default
# pool (5 kept, 10 more on demand) held 15 under 300 look-ups/s, opening and closing the extra
# ones over and over. Six, with 256 KiB of cache each (512 before), peaked ~10 MB lower under
# that load (bench/memory.py) and answered as fast (bench/commands.py, 100,000 papers: p50
# 3-6 ms, p99 66-145 ms against 6-18 and 267-605 ms): on 2 cores a handler waiting for a
# connection would wait for a CPU anyway, and the OS caches the file. No handler holds a session
# while it opens another, so a fixed pool cannot deadlock (a wait gives up after 30 s).
# Bulk work (ingest, db copy) keeps the defaults; so does PostgreSQL (its connections are
# sockets, not threads).
SERVING_PAGE_CACHE_KIB = 256
SERVING_CONNECTIONS = 6


def create_engine(
    url: str, *, page_cache_kib: int | None = None, connections: int | None = None
) -> AsyncEngine:
    """Create the async engine for `url`, with SQLite pragmas installed (and, when given, a
    page cache of `page_cache_kib` per connection, and a pool of at most `connections`)."""
    _ensure_sqlite_folder(url)
    options: dict[str, Any] = {}
    if connections is not None and _sqlite_file(make_url(url)):  # in memory: one connection
        options.update(pool_size=connections, max_overflow=0)
    # Summaries are mostly Korean: ASCII-escaping them made JSON columns twice the size and
    # their encoding the slowest step of a bulk load. The stored JSON means the same.
    engine = _create_async_engine(driver_url(url), json_serializer=_json_dumps, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        if page_cache_kib is not None:
            pragma = f"PRAGMA cache_size=-{int(page_cache_kib)}"
            event.listen(engine.sync_engine, "connect", partial(_run_pragma, pragma))
    return engine


def serving_engine(url: str) -> AsyncEngine:
    """The engine of `paperboy run` (and of the benchmarks that measure it): on SQLite, a
    fixed pool of `SERVING_CONNECTIONS` with `SERVING_PAGE_CACHE_KIB` of cache each."""
    return create_engine(
        url, page_cache_kib=SERVING_PAGE_CACHE_KIB, connections=SERVING_CONNECTIONS
    )


def _run_pragma(pragma: str, dbapi_connection: Any, _record: Any) -> None:
    """Run one more pragma on a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute(pragma)
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic configuration built in code: migrations ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade_sync(connection: Connection, target: str = "head") -> None:
    """Run `alembic upgrade <target>` on an open connection."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


def _revision_sync(connection: Connection) -> str | None:
    """Read the revision stamped in the database."""
    return MigrationContext.configure(connection).get_current_revision()


# An archive migrated from below this revision gets its search index rebuilt: what goes into
# a search document changed there (0006: Korean analysis; 0008: the HF list's abstract,
# ai_summary and keywords, and generated summaries, are indexed too; 0013: a compound's
# joined token moved out of phrases, after its text; 0015: a title's camel-case names are
# indexed by their parts too).
REINDEX_BELOW = "0015"
log = logging.getLogger(__name__)


# Upgrades take turns (several workers start at once): a transaction-scoped advisory lock on
# PostgreSQL, the write lock taken up front on SQLite.
_UPGRADE_LOCK = 0x70617065  # any constant shared by every paperboy process


async def _take_turn(connection: AsyncConnection) -> None:
    """Wait until no other upgrade runs, for the rest of this transaction."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
    else:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (and its search index with it).

    An archive below `REINDEX_BELOW` is first migrated to that revision and reindexed in one
    transaction (a crash redoes both), before later migrations run, so their schema locks
    (e.g. on `chats`) are not held for the whole rebuild (those up to it are: from 0014, the
    head before it, only 0015's, which changes no schema). The revision is read only once this
    process has its turn, so workers that start together upgrade (and reindex) once.
    """
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await _take_turn(connection)
            before = await connection.run_sync(_revision_sync)
            if before is not None and before < REINDEX_BELOW:
                await connection.run_sync(_upgrade_sync, REINDEX_BELOW)
                await _rebuild_search(connection)
        async with engine.begin() as connection:
            await _take_turn(connection)
            await connection.run_sync(_upgrade_sync)
    finally:
        await engine.dispose()


async def _rebuild_search(connection: AsyncConnection) -> None:
    """Rebuild the search index inside the upgrade's transaction."""
    from storage.search_index import rebuild_index  # it needs the models, not this

    log.info("rebuilding the search index after the upgrade (once; large archives take a while)")
    async with AsyncSession(bind=connection) as session:
        await rebuild_index(session)
        await session.flush()


async def current_revision(url: str) -> str | None:
    """The Alembic revision the database at `url` is at (None before the first upgrade)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_revision_sync)
    finally:
        await engine.dispose()
