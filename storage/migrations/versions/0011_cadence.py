"""A chat's cadence (daily, weekly or both) and its journal-club poll with the daily digest.

`chats.cadence` says which digests a chat gets: the daily one (the default, as before), a weekly
one on Monday at its time (last week's top papers), or both. `chats.journal_poll` (groups) sends
a native poll of the daily digest's papers right after it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add chats.cadence and chats.journal_poll."""
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("cadence", sa.String(8), nullable=False, server_default="daily"))
        batch.add_column(
            sa.Column("journal_poll", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("journal_poll")
        batch.drop_column("cadence")
