"""Chats remember the Telegram language of a private chat's user, for scheduled digests.

A private chat on the "automatic" language answers commands in its user's Telegram language,
but a scheduled digest has no user to ask: it used DEFAULT_LANGUAGE. `user_language` keeps the
language code seen on that chat's /subscribe and /settings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add chats.user_language."""
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("user_language", sa.String(16), nullable=True))


def downgrade() -> None:
    """Drop chats.user_language."""
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("user_language")
