"""The HF list's metadata on papers, a vote history, and generated summaries.

The HF daily-papers list is now the live source: papers keep its one-line `ai_summary`, keywords,
GitHub repository and stars, project page, comment count, submitter and organization. Votes keep
moving for days, so each observed change is kept in `vote_history`. `summaries` caches the Korean
summaries paperboy generates, one row per (paper, model, prompt version), which is also the claim
that keeps several workers from asking twice. `digest_readiness.by_hand` marks a day an operator
declared complete (`paperboy ingest --ready`): settled at once, until its content changes again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAPER_COLUMNS = (
    ("ai_summary", sa.Text()),
    ("ai_keywords", sa.JSON()),
    ("github_repo", sa.Text()),
    ("github_stars", sa.Integer()),
    ("project_page", sa.Text()),
    ("num_comments", sa.Integer()),
    ("submitter", sa.Text()),
    ("organization", sa.Text()),
)


def upgrade() -> None:
    """Add the HF columns to papers; create vote_history and summaries."""
    with op.batch_alter_table("papers") as batch:
        for name, kind in PAPER_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_table(
        "vote_history",
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("papers.arxiv_id"), primary_key=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("votes", sa.Integer(), nullable=False),
    )
    op.create_index("ix_vote_history_observed_at", "vote_history", ["observed_at"])
    op.create_table(
        "summaries",
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("papers.arxiv_id"), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("prompt_version", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("block", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_summaries_state", "summaries", ["state"])
    op.create_index("ix_summaries_created_at", "summaries", ["created_at"])
    with op.batch_alter_table("digest_readiness") as batch:
        batch.add_column(
            sa.Column("by_hand", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop summaries and vote_history and the HF columns."""
    op.drop_column("digest_readiness", "by_hand")
    op.drop_table("summaries")
    op.drop_table("vote_history")
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): batch mode would copy `papers`,
    # which the foreign keys of digest_entries and paper_authors forbid.
    for name, _kind in reversed(PAPER_COLUMNS):
        op.drop_column("papers", name)
