"""The archive: digests (revisions), papers, entries, authors and paper authors.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already its 64-bit rowid.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the archive tables."""
    op.create_table(
        "digests",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("paper_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("date", "format", "revision", name="uq_digests_date_format_revision"),
    )
    op.create_index("ix_digests_date_format_hash", "digests", ["date", "format", "content_hash"])
    op.create_index("ix_digests_is_latest", "digests", ["is_latest"])
    op.create_table(
        "papers",
        sa.Column("arxiv_id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("media_kind", sa.String(16), nullable=True),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("authors_truncated", sa.Boolean(), nullable=False),
        sa.Column("latest_votes", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_papers_last_seen", "papers", ["last_seen"])
    op.create_table(
        "digest_entries",
        sa.Column("digest_id", BIG_ID, sa.ForeignKey("digests.id"), primary_key=True),
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("papers.arxiv_id"), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("raw_block", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
    )
    op.create_index("ix_digest_entries_arxiv_id", "digest_entries", ["arxiv_id"])
    op.create_table(
        "authors",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("normalized", sa.Text(), nullable=False),
    )
    op.create_index("ix_authors_normalized", "authors", ["normalized"])
    op.create_table(
        "paper_authors",
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("papers.arxiv_id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("author_id", BIG_ID, sa.ForeignKey("authors.id"), nullable=False),
    )
    op.create_index("ix_paper_authors_author_id", "paper_authors", ["author_id"])


def downgrade() -> None:
    """Drop the archive tables."""
    for index, table in (
        ("ix_paper_authors_author_id", "paper_authors"),
        ("ix_authors_normalized", "authors"),
        ("ix_digest_entries_arxiv_id", "digest_entries"),
        ("ix_papers_last_seen", "papers"),
        ("ix_digests_is_latest", "digests"),
        ("ix_digests_date_format_hash", "digests"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("paper_authors", "authors", "digest_entries", "papers", "digests"):
        op.drop_table(table)
