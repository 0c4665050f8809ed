"""Paper keywords: a model's search keywords for a paper, in English and Korean.

`paper_keywords` keeps each paper's keywords per model and prompt version
(bot.content.keywords); its search document indexes the newest row's.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create paper_keywords."""
    op.create_table(
        "paper_keywords",
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("papers.arxiv_id"), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("prompt_version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop paper_keywords."""
    op.drop_table("paper_keywords")
