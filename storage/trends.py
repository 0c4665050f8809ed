"""Topic trends: how many archived papers match a topic, per month, through the search analyser.

Keyword-only functions that take the session and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.analysis import parse_query
from storage.search_query import (
    fts5_expression,
    query_terms,
    tsquery_expression,
    without_related,
)


class EmptyTopic(ValueError):
    """The topic has no word the analyser can search for."""

    def __init__(self, topic: str) -> None:
        super().__init__(topic)
        self.topic = topic


def _expression(topic: str, dialect: str) -> str:
    """The topic as a MATCH (SQLite) or tsquery (PostgreSQL) expression, read like /search."""
    positive, negative = query_terms(parse_query(topic))
    # Without the related terms /search adds: a topic's monthly counts are of the papers naming
    # it, and a chart of four topics stays under bench.trends' 300 ms (with them, p95 +10-30 ms).
    positive = without_related(positive)
    if not positive:
        raise EmptyTopic(topic)
    if dialect == "postgresql":
        return tsquery_expression(positive, negative)
    return fts5_expression(positive, negative)


def _statement(dialect: str) -> str:
    """Matches per day of one MATCH / tsquery expression (`:q`)."""
    if dialect == "postgresql":
        return (
            "SELECT d.day, count(*) FROM search_documents d "
            "WHERE d.tsv @@ to_tsquery('simple', :q) GROUP BY d.day"
        )
    # Walk the day index (it holds each document's id) against the matching rowids: looking
    # each match up in search_documents reads its wide token rows, 4× slower for a common word
    # at 100k papers (`+` keeps SQLite from choosing those lookups). One walk per topic: a
    # single walk probing every topic's matches at once measured slower.
    return (
        "SELECT d.day, count(*) FROM search_documents d INDEXED BY ix_search_documents_day "
        "WHERE +d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :q) GROUP BY d.day"
    )


async def topic_months(session: AsyncSession, *, topics: Sequence[str]) -> list[dict[str, int]]:
    """Per topic, {"YYYY-MM": papers matching it} over the whole archive (empty months left out).

    A topic is read like a /search query (glossary, Korean bigrams, quoted phrases, `-excluded`
    words); raises EmptyTopic for the first one with nothing searchable in it.
    """
    dialect = session.get_bind().dialect.name
    expressions = [_expression(topic, dialect) for topic in topics]
    found: list[dict[str, int]] = []
    for expression in expressions:
        months: dict[str, int] = {}
        for day, count in await session.execute(text(_statement(dialect)), {"q": expression}):
            month = str(day)[:7]  # a date on PostgreSQL, ISO text on SQLite
            months[month] = months.get(month, 0) + int(count)
        found.append(months)
    return found
