"""Search documents index a title's camel-case names by their parts too.

No schema change. A title's `LongRoPE`, `PhysAvatar` or `ChartQA` was one token, so a query for
RoPE, avatars or charts never found the paper it names. Titles now add each camel-case name's
parts after their own tokens (storage.analysis.title_extras). `storage.db.upgrade` rebuilds
the search index of an archive that was below this revision, in the same transaction as the
upgrade.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing in the schema: see `storage.db.REINDEX_BELOW`."""


def downgrade() -> None:
    """Nothing to undo."""
