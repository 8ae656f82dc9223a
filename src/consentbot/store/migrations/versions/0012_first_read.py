"""participant.first_read_at: when a person first opened one of the study's topics

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consentbot.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable with no back-fill: who read what before this column existed is not known,
    # and the console says "read" counts only from this version on (docs/staff.md).
    with op.batch_alter_table("participant") as batch:
        batch.add_column(
            sa.Column(
                "first_read_at", consentbot.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("first_read_at")
