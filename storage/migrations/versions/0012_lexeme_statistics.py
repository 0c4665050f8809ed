"""Finer lexeme statistics for PostgreSQL's search planning.

storage.search sizes its window over the newest documents from `pg_stats.most_common_elems`
of `search_documents.tsv`. At the default statistics target those are the 1,000 commonest
lexemes, down to ~7% of documents, so a word in 1-7% of them looked rare and was searched in
all its matches (thousands of rows read: the p95 tail at 100k papers). A target of 1,000 keeps
10,000 lexemes, down to ~0.4%; ANALYZE of 100k documents takes ~2 s. SQLite: nothing to do.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS_TARGET = 1000


def upgrade() -> None:
    """Raise the tsv column's statistics target and gather them once."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE search_documents ALTER COLUMN tsv SET STATISTICS {STATISTICS_TARGET}")
    op.execute("ANALYZE search_documents")


def downgrade() -> None:
    """Back to the server's default target."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search_documents ALTER COLUMN tsv SET STATISTICS -1")
