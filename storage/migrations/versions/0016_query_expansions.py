"""Query expansions: a model's English phrases for a Korean search query, cached.

`query_expansions` keeps each query's phrases per model and prompt version
(bot.content.expansion), so a query is asked about once across restarts and workers.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create query_expansions."""
    op.create_table(
        "query_expansions",
        sa.Column("query", sa.String(200), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("prompt_version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("phrases", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop query_expansions."""
    op.drop_table("query_expansions")
