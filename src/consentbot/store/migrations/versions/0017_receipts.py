"""receipts: a signed consent receipt for each turn that gave, changed or withdrew consent

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "consent_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", _text(16), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("study_id", _text(100), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("document", _text(), nullable=False),
        sa.Column("signature", _text(200), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("consent_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_receipt_participant_id"), ["participant_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("consent_receipt")
