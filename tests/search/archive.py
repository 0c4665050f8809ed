"""A corpus archive for the search tests: migrate a database and ingest files into it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.content.ingest import ingest
from storage.db import create_engine, session_factory, upgrade


async def load_archive(url: str, files: Sequence[str]) -> None:
    """Migrate the database at `url` and ingest `files` into it."""
    await upgrade(url)
    engine = create_engine(url)
    try:
        await ingest(list(files), sessions=session_factory(engine))
    finally:
        await engine.dispose()
