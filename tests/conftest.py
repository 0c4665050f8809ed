"""Fixtures shared by every test package (keep each one small; append new ones below)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

T = TypeVar("T")

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


# --- Databases: every test that asks for one runs on SQLite, and on PostgreSQL too when
# PAPERBOY_TEST_DATABASE_URL points at one. Each backend is migrated (and seeded) once per run
# into a template; each test gets a fresh copy (a file copy, or CREATE DATABASE … TEMPLATE).

PG_ENV = "PAPERBOY_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run set-up work on a private loop in a thread (a test's loop may already be running)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _seed(url: str) -> None:
    """Migrate `url` and ingest the bundled sample digests into it."""
    from bot.content.ingest import ingest_samples
    from storage.db import create_engine, session_factory, upgrade

    await upgrade(url)
    engine = create_engine(url)
    try:
        await ingest_samples(sessions=session_factory(engine))
    finally:
        await engine.dispose()


class _PostgresServer:
    """Creates and drops throw-away databases on the test PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.run_id = uuid.uuid4().hex[:8]

    def url_for(self, name: str) -> str:
        """The SQLAlchemy URL of database `name` on this server."""
        return self.url.set(database=name).render_as_string(hide_password=False)

    async def execute(self, *statements: str) -> None:
        """Run statements outside a transaction on the server's maintenance database."""
        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            connection = await asyncpg.connect(dsn, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}", pytrace=False)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_PostgresServer | None]:
    """The PostgreSQL server under test, or None when only SQLite is tested."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    server = _PostgresServer(url)
    yield server
    _run(server.execute(*_drop_statements(server, ("empty", "seeded"))))


def _drop_statements(server: _PostgresServer, kinds: Sequence[str]) -> list[str]:
    """DROP statements for this run's template databases."""
    return [f"DROP DATABASE IF EXISTS pb_{server.run_id}_{kind} WITH (FORCE)" for kind in kinds]


@pytest.fixture(scope="session")
def _templates(
    tmp_path_factory: pytest.TempPathFactory, _postgres: _PostgresServer | None
) -> dict[tuple[str, bool], str]:
    """Template databases per (backend, seeded): migrated once, seeded once."""
    folder = tmp_path_factory.mktemp("db-templates")
    templates: dict[tuple[str, bool], str] = {}
    for seeded in (False, True):
        path = folder / f"{'seeded' if seeded else 'empty'}.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        _run(_seed(url) if seeded else _upgrade(url))
        templates["sqlite", seeded] = str(path)
        if _postgres is not None:
            name = f"pb_{_postgres.run_id}_{'seeded' if seeded else 'empty'}"
            _run(_postgres.execute(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
            pg_url = _postgres.url_for(name)
            _run(_seed(pg_url) if seeded else _upgrade(pg_url))
            templates["postgresql", seeded] = name
    return templates


async def _upgrade(url: str) -> None:
    """Migrate `url` to the newest schema."""
    from storage.db import upgrade

    await upgrade(url)


async def _fresh_database(
    request: pytest.FixtureRequest, tmp_path: Path, *, seeded: bool
) -> AsyncIterator[str]:
    """A fresh copy of the (seeded) template on the backend chosen by the fixture's param."""
    backend: str = request.param
    templates: dict[tuple[str, bool], str] = request.getfixturevalue("_templates")
    if backend == "sqlite":
        target = tmp_path / f"paperboy-{'seeded' if seeded else 'empty'}.sqlite3"
        shutil.copyfile(templates["sqlite", seeded], target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    server: _PostgresServer = request.getfixturevalue("_postgres")
    name = f"pb_{server.run_id}_{uuid.uuid4().hex[:10]}"
    await server.execute(f"CREATE DATABASE {name} TEMPLATE {templates['postgresql', seeded]}")
    try:
        yield server.url_for(name)
    finally:
        await server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated, empty database (SQLite file; PostgreSQL database when configured)."""
    async for url in _fresh_database(request, tmp_path, seeded=False):
        yield url


@pytest.fixture(params=BACKENDS)
async def seeded_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database holding the bundled sample digests."""
    async for url in _fresh_database(request, tmp_path, seeded=True):
        yield url
