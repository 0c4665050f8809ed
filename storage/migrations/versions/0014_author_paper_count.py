"""Each author keeps how many papers list it.

An `author:` query with a short prefix (`author:li`) matches thousands of names, and the look-up
ranks them by whole-word matches, then papers: counting each one's papers in `paper_authors`
was the slowest search left (~25-35 ms at 100k papers on PostgreSQL). `authors.paper_count` is
now written with the author lists (storage.digest_store) and read instead. On SQLite the
trigger that keeps `author_fts` in step with `authors` now fires only when a name changes, not on
every count.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_NAME_TRIGGER = (
    "CREATE TRIGGER authors_fts_au AFTER UPDATE {columns}ON authors BEGIN "
    "INSERT INTO author_fts(author_fts, rowid, normalized) "
    "VALUES ('delete', old.id, old.normalized); "
    "INSERT INTO author_fts(rowid, normalized) VALUES (new.id, new.normalized); END"
)


def upgrade() -> None:
    """Add the column and count every author's papers once."""
    # Plain ALTER TABLE on both backends (SQLite >= 3.35): a batch copy would drop the triggers.
    op.add_column(
        "authors", sa.Column("paper_count", sa.Integer(), nullable=False, server_default="0")
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS authors_fts_au")
        op.execute(_NAME_TRIGGER.format(columns="OF normalized "))
    op.execute(
        "UPDATE authors SET paper_count = "
        "(SELECT count(*) FROM paper_authors pa WHERE pa.author_id = authors.id)"
    )


def downgrade() -> None:
    """Drop the column and restore the trigger on every update."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS authors_fts_au")
        op.execute(_NAME_TRIGGER.format(columns=""))
    op.drop_column("authors", "paper_count")
