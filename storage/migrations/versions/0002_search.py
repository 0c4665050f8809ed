"""Search: analysed documents per paper, full-text indexes over them and over author names.

SQLite gets FTS5 external-content tables kept in sync by triggers; PostgreSQL gets generated
tsvector columns ('simple' config over the same pre-analysed tokens) with GIN indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The FTS5 tables read their text from the plain tables (content=...), so the text is stored once.
_SQLITE_UP = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_tokens, author_tokens, body_tokens, "
    "content='search_documents', content_rowid='id', tokenize='unicode61 remove_diacritics 0', "
    "detail=full)",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title_tokens, author_tokens, body_tokens) "
    "VALUES (new.id, new.title_tokens, new.author_tokens, new.body_tokens); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_tokens, author_tokens, body_tokens) "
    "VALUES ('delete', old.id, old.title_tokens, old.author_tokens, old.body_tokens); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_tokens, author_tokens, body_tokens) "
    "VALUES ('delete', old.id, old.title_tokens, old.author_tokens, old.body_tokens); "
    "INSERT INTO search_fts(rowid, title_tokens, author_tokens, body_tokens) "
    "VALUES (new.id, new.title_tokens, new.author_tokens, new.body_tokens); END",
    "CREATE VIRTUAL TABLE author_fts USING fts5(normalized, content='authors', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')",
    "INSERT INTO author_fts(author_fts) VALUES ('rebuild')",
    "CREATE TRIGGER authors_fts_ai AFTER INSERT ON authors BEGIN "
    "INSERT INTO author_fts(rowid, normalized) VALUES (new.id, new.normalized); END",
    "CREATE TRIGGER authors_fts_ad AFTER DELETE ON authors BEGIN "
    "INSERT INTO author_fts(author_fts, rowid, normalized) "
    "VALUES ('delete', old.id, old.normalized); END",
    "CREATE TRIGGER authors_fts_au AFTER UPDATE ON authors BEGIN "
    "INSERT INTO author_fts(author_fts, rowid, normalized) "
    "VALUES ('delete', old.id, old.normalized); "
    "INSERT INTO author_fts(rowid, normalized) VALUES (new.id, new.normalized); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS authors_fts_au",
    "DROP TRIGGER IF EXISTS authors_fts_ad",
    "DROP TRIGGER IF EXISTS authors_fts_ai",
    "DROP TABLE IF EXISTS author_fts",
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TABLE IF EXISTS search_fts",
)
_POSTGRES_UP = (
    "ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', title_tokens), 'A') || "
    "setweight(to_tsvector('simple', author_tokens), 'B') || "
    "setweight(to_tsvector('simple', body_tokens), 'C')) STORED",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)",
    "CREATE INDEX ix_authors_normalized_tsv ON authors "
    "USING gin (to_tsvector('simple', normalized))",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_authors_normalized_tsv",
    "DROP INDEX IF EXISTS ix_search_documents_tsv",
)


def upgrade() -> None:
    """Create the search documents table and the dialect's full-text indexes."""
    op.create_table(
        "search_documents",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("papers.arxiv_id"), nullable=False),
        sa.Column("title_tokens", sa.Text(), nullable=False),
        sa.Column("author_tokens", sa.Text(), nullable=False),
        sa.Column("body_tokens", sa.Text(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.UniqueConstraint("arxiv_id", name="uq_search_documents_arxiv_id"),
    )
    op.create_index("ix_search_documents_day", "search_documents", ["day"])
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_UP if dialect == "sqlite" else _POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    """Drop the search indexes and documents."""
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_DOWN if dialect == "sqlite" else _POSTGRES_DOWN:
        op.execute(statement)
    op.drop_index("ix_search_documents_day", table_name="search_documents")
    op.drop_table("search_documents")
