"""Saved papers (⭐) and the "for you" setting.

`saved_papers` holds each user's library: one row per (user, paper), with the chat it was saved
in (a group's "for you" learns from what its members saved there). `chats.for_you` turns the
digest's "✨ For you" section off for a chat (on by default).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create saved_papers; add chats.for_you."""
    op.create_table(
        "saved_papers",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("papers.arxiv_id"), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_saved_papers_user_saved_at", "saved_papers", ["user_id", "saved_at"])
    op.create_index("ix_saved_papers_chat_id", "saved_papers", ["chat_id"])
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("for_you", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("for_you")
    op.drop_index("ix_saved_papers_chat_id", table_name="saved_papers")
    op.drop_index("ix_saved_papers_user_saved_at", table_name="saved_papers")
    op.drop_table("saved_papers")
