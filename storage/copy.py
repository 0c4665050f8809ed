"""Copy a whole archive from one database to another (SQLite → PostgreSQL as a bot grows)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage import (  # noqa: F401  (registers their tables)
    chats,
    deliveries,
    expansions,
    keywords,
    polls,
    saved,
    search_index,
)
from storage.models import Base

_BATCH = 2_000
Progress = Callable[[str, int], None]


class CopyError(Exception):
    """The copy cannot start (the target already holds data)."""


async def copy_database(
    *, source: AsyncEngine, target: AsyncEngine, progress: Progress | None = None
) -> dict[str, int]:
    """Copy every table from `source` into the empty, migrated `target`; return rows per table.

    Ids are copied as they are, so references stay valid; PostgreSQL sequences are moved past
    them afterwards. The search index is rebuilt on the target rather than copied, because its
    storage differs per database (FTS5 tables vs tsvector columns).
    """
    async with target.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if await connection.scalar(select(func.count()).select_from(table)):
                raise CopyError(
                    f"the target database already has rows in {table.name}; copy into an empty one"
                )
    counts: dict[str, int] = {}
    async with source.connect() as reader, target.begin() as writer:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = 0
            result = await reader.stream(select(table))
            async for rows in result.partitions(_BATCH):
                await writer.execute(insert(table), [row._asdict() for row in rows])
                counts[table.name] += len(rows)
                if progress is not None:
                    progress(table.name, counts[table.name])
        if writer.dialect.name == "postgresql":
            await _advance_sequences(writer)
    async with AsyncSession(target) as session:
        await search_index.rebuild_index(session)
        await session.commit()
    return counts


async def _advance_sequences(connection: AsyncConnection) -> None:
    """Move each serial id sequence past the copied ids (PostgreSQL only)."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type.python_type is int
            ):
                await connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:table, :column), "
                        f"COALESCE((SELECT max({column.name}) FROM {table.name}), 0) + 1, false) "
                        "WHERE pg_get_serial_sequence(:table, :column) IS NOT NULL"
                    ),
                    {"table": table.name, "column": column.name},
                )
