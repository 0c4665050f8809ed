"""Bulk INSERTs of plain rows: straight to the SQLite driver, through Core elsewhere."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def insert_many(
    session: AsyncSession, *, statement: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Execute an INSERT for many positional `rows` of plain values (no type processing).

    On SQLite the rows go straight to the driver as multi-row VALUES statements: SQLAlchemy's
    per-row parameter handling was the largest cost of a bulk load there, and a table with
    FTS5 triggers flushes the full-text index after every statement, so one statement per
    row made tiny index segments to merge (twice the work). Other databases go through Core.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        await session.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != columns:
        raise ValueError(f"unexpected parameter order {compiled.positiontup} for {columns}")
    connection = await session.connection()
    for sql, params in multi_row_values(str(compiled), rows):
        await connection.exec_driver_sql(sql, params)


def multi_row_values(
    sql: str, rows: Sequence[tuple[Any, ...]], *, per_statement: int = 500
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """A one-row SQLite `INSERT … VALUES (?, …) …` as statements of up to `per_statement` rows.

    Parameters stay bound (`?`), never spliced into the SQL; 500 rows stay far below SQLite's
    32,766-parameter limit for the few columns we insert.
    """
    group = "(" + ", ".join("?" * len(rows[0])) + ")" if rows else "()"
    head, marker, tail = sql.partition(f"VALUES {group}")
    if not marker:
        raise ValueError(f"not a one-row VALUES insert: {sql}")
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = ", ".join([group] * len(chunk))
        yield f"{head}VALUES {values}{tail}", tuple(value for row in chunk for value in row)
