"""The database's share of an ingest: record its SQL, then replay it in plain sqlite3.

A replay runs the exact statements and parameters an ingest sent, in the same transactions,
on one thread with no Python around them: no parsing, analysis, SQLAlchemy or event loop.
Its time is the floor of what any Python code driving this schema could reach; a replay
without the search triggers shows how much of it is the full-text index.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SQLITE_PRAGMAS

BEGIN, COMMIT = "BEGIN", "COMMIT"
# The triggers that feed `search_fts` from `search_documents` (migration 0002).
INDEX_TRIGGERS = ("search_documents_ai", "search_documents_au", "search_documents_ad")


@dataclass(slots=True)
class Recording:
    """Statements in the order an engine sent them, with BEGIN and COMMIT marks."""

    steps: list[tuple[str, Any]] = field(default_factory=list)

    def attach(self, engine: AsyncEngine) -> None:
        """Record everything `engine` sends from now on."""
        sync = engine.sync_engine
        event.listen(sync, "begin", lambda _conn: self.steps.append((BEGIN, None)))
        event.listen(sync, "commit", lambda _conn: self.steps.append((COMMIT, None)))
        event.listen(sync, "before_cursor_execute", self._statement)

    def _statement(self, *args: Any) -> None:
        """before_cursor_execute(conn, cursor, statement, parameters, context, executemany)."""
        _conn, _cursor, statement, parameters, _context, executemany = args
        many = executemany and bool(parameters) and isinstance(parameters[0], tuple | list)
        self.steps.append((statement, list(parameters) if many else tuple(parameters or ())))


def _kind(statement: str) -> str:
    """`INSERT INTO papers`, `SELECT`, `COMMIT`…: what the replay's breakdown is keyed by."""
    words = statement.split()
    if words[0].upper() in ("INSERT", "DELETE"):
        return " ".join(words[:3])
    return words[0].upper()


def replay(
    recording: Recording, path: str, *, index: bool = True
) -> tuple[float, dict[str, float]]:
    """Run `recording` on the migrated, empty SQLite file at `path`; (seconds, seconds by kind).

    The connection gets the pragmas the application sets. `index=False` drops the search
    triggers first, so the full-text index is not written. Closing (the last WAL checkpoint)
    is counted, as the ingest's own time counts its engine's disposal.
    """
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        connection.execute(pragma)
    if not index:
        for trigger in INDEX_TRIGGERS:
            connection.execute(f"DROP TRIGGER {trigger}")
    spent: defaultdict[str, float] = defaultdict(float)
    started = time.perf_counter()
    for statement, parameters in recording.steps:
        before = time.perf_counter()
        if isinstance(parameters, list):
            connection.executemany(statement, parameters)
        elif parameters is None:
            connection.execute(statement)
        else:
            connection.execute(statement, parameters).fetchall()
        spent[_kind(statement)] += time.perf_counter() - before
    before = time.perf_counter()
    connection.close()
    spent["CLOSE"] += time.perf_counter() - before
    return time.perf_counter() - started, dict(spent)
