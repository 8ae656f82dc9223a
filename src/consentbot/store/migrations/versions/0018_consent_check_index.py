"""consent check: a covering index on consent_state (participant_id, purpose_id, status)

A data pipeline's consent check reads one purpose's status for up to 100,000 participants
at once. With the status in the index, each of them is one index probe and no table read
(an index-only scan on PostgreSQL), which roughly halves the check on a large study.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 20:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_state_status", ["participant_id", "purpose_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_state_status")
