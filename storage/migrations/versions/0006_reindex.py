"""Search documents keep the Korean summary of a paper also listed by a JSON digest.

No schema change. Before this revision, a paper whose newest digest entry came from a Hugging
Face JSON digest (which has no summary) was indexed without the Korean summary of its Markdown
entry: 103 of the corpus's papers. `storage.db.upgrade` rebuilds the search index of an archive
that was below this revision, in the same transaction as the upgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing in the schema: see `storage.db.REINDEX_BELOW`."""


def downgrade() -> None:
    """Nothing to undo."""
