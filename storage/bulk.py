"""Bulk INSERTs of plain rows: straight to the SQLite driver, through Core elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]
# SQLite (3.32+) binds at most 32,766 parameters per statement.
MAX_PARAMETERS = 32_000


async def insert_many(
    session: AsyncSession, *, statement: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Execute an INSERT for many positional `rows` of Python values; return RETURNING rows.

    On SQLite the rows go straight to the driver as multi-row VALUES statements, each value
    through its column type's bind processor (what Core would apply: JSON, dates, booleans):
    SQLAlchemy's per-row parameter handling was the largest cost of a bulk load there, and a
    table with FTS5 triggers flushes the full-text index after every statement, so one
    statement per row made tiny index segments to merge (twice the work). Other databases
    go through Core (RETURNING rows are not collected there: use it on SQLite only).
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        await session.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
        return []
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != columns:
        raise ValueError(f"unexpected parameter order {compiled.positiontup} for {columns}")
    rows = _processed(rows, _processors(compiled, dialect))
    connection = await session.connection()
    returned: list[tuple[Any, ...]] = []
    for sql, params in multi_row_values(str(compiled), rows):
        result = await connection.exec_driver_sql(sql, params)
        if result.returns_rows:
            returned.extend(tuple(row) for row in result)
    return returned


def _processors(compiled: SQLCompiler, dialect: Dialect) -> list[tuple[int, Processor]]:
    """(position, bind processor) of each parameter whose type converts its Python value."""
    found: list[tuple[int, Processor]] = []
    for position, name in enumerate(compiled.positiontup or ()):
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            found.append((position, processor))
    return found


def _processed(
    rows: list[tuple[Any, ...]], processors: list[tuple[int, Processor]]
) -> list[tuple[Any, ...]]:
    """`rows` with each processed column's values converted (None too: JSON stores `null`)."""
    if not processors:
        return rows
    columns = list(zip(*rows, strict=True))
    for position, processor in processors:
        columns[position] = tuple(map(processor, columns[position]))
    return list(zip(*columns, strict=True))


def multi_row_values(
    sql: str, rows: Sequence[tuple[Any, ...]], *, per_statement: int | None = None
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """A one-row SQLite `INSERT … VALUES (?, …) …` as statements of up to `per_statement` rows.

    Parameters stay bound (`?`), never spliced into the SQL. By default a statement takes as
    many rows as `MAX_PARAMETERS` allows, so a batch is a statement or two per table: each
    statement is a round trip to the driver's thread, which then waits for the GIL while
    the event loop parses the next files (measured: 5,000-row statements made the corpus
    ingest ~5% faster than 500-row ones, though SQLite alone runs both at the same speed).
    """
    group = "(" + ", ".join("?" * len(rows[0])) + ")" if rows else "()"
    head, marker, tail = sql.partition(f"VALUES {group}")
    if not marker:
        raise ValueError(f"not a one-row VALUES insert: {sql}")
    if per_statement is None:
        per_statement = MAX_PARAMETERS // max(1, len(rows[0])) if rows else 1
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = ", ".join([group] * len(chunk))
        yield f"{head}VALUES {values}{tail}", tuple(value for row in chunk for value in row)
