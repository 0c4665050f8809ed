"""Search documents index a hyphenated compound as its parts, its joined token out of phrases.

No schema change. Before this revision a compound was indexed as its joined token followed by
its parts (`reward-guided` → `rewardguided reward guided`), so the joined token sat inside every
phrase running into the compound: *process reward* did not match `Process Reward-Guided Tree
Search`, nor *large vision language model* `Large Vision-Language Model`. Now the parts stay in
place, and each compound's joined token goes after the text's last token, behind the token
before the compound (storage.analysis). `storage.db.upgrade` rebuilds the search index of an
archive that was below this revision, in the same transaction as the upgrade.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing in the schema: see `storage.db.REINDEX_BELOW`."""


def downgrade() -> None:
    """Nothing to undo."""
