"""A corpus archive for the search tests: migrate a database and ingest files into it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.ingest import ingest
from bot.digest import parse_digest
from storage.db import create_engine, session_factory, upgrade
from storage.digest_store import store_digest


async def load_archive(url: str, files: Sequence[str]) -> None:
    """Migrate the database at `url` and ingest `files` into it."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        await ingest(list(files), sessions=session_factory(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def digest_session(
    url: str, text: str, *, source: str = "t.md"
) -> AsyncIterator[AsyncSession]:
    """A session on the (migrated, empty) database at `url` after storing one Markdown digest."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await store_digest(session, digest=parse_digest(text, source=source), source=source)
            await session.commit()
            yield session
    finally:
        await engine.dispose()
