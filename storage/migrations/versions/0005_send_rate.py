"""Several workers: cluster-wide send pacing (send_rate) and indexes for claiming rows.

`send_rate` holds one row per rate limit with its next free send slot. The two partial indexes
let `claim_due` walk pending rows in claim order and stop at its limit, and check "an older
row of this chat is still open" with one index probe, so a claim costs the same whether 100
or 100,000 rows wait (without them PostgreSQL sorted every due row on every claim).

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PENDING = sa.text("state = 'pending'")
OPEN = sa.text("state IN ('pending', 'sending')")


def upgrade() -> None:
    """Create send_rate and the claim indexes."""
    op.create_table(
        "send_rate",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_slot", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_deliveries_claim_order",
        "deliveries",
        ["next_attempt_at", "id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        "ix_deliveries_chat_open",
        "deliveries",
        ["chat_id", "id"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    """Drop the claim indexes and send_rate."""
    op.drop_index("ix_deliveries_chat_open", table_name="deliveries")
    op.drop_index("ix_deliveries_claim_order", table_name="deliveries")
    op.drop_table("send_rate")
