"""Covering indexes for the `author:` filter: an author's papers, then their day and votes.

`author:li` lists the papers of up to 20 authors newest first. The filter read each paper's
id through `ix_paper_authors_author_id` and then the table, and each paper's day and votes
from its search_documents row, whose token columns (kilobytes of Korean text) spill onto
overflow pages that SQLite walks to reach the columns after them: 6 ms at 100,000 papers.
`(author_id, arxiv_id)` and `(arxiv_id, day, votes)` answer it from the indexes alone: 1 ms
(storage.search names the second on SQLite, whose planner prefers the unique arxiv_id index
without statistics).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Replace the author_id index with (author_id, arxiv_id); index documents' day and votes."""
    op.create_index("ix_paper_authors_author_paper", "paper_authors", ["author_id", "arxiv_id"])
    op.drop_index("ix_paper_authors_author_id", table_name="paper_authors")
    op.create_index(
        "ix_search_documents_paper_day", "search_documents", ["arxiv_id", "day", "votes"]
    )


def downgrade() -> None:
    """Back to the author_id index alone."""
    op.drop_index("ix_search_documents_paper_day", table_name="search_documents")
    op.create_index("ix_paper_authors_author_id", "paper_authors", ["author_id"])
    op.drop_index("ix_paper_authors_author_paper", table_name="paper_authors")
