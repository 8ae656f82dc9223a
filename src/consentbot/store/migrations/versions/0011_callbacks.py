"""callbacks: the queue of people who asked to be phoned back (CALL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "callback_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", _text(100), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", _AT, nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", _AT, nullable=True),
        sa.Column("done_at", _AT, nullable=True),
        sa.Column("outcome", _text(32), nullable=True),
        sa.Column("note", _text(1000), nullable=True),
        sa.ForeignKeyConstraint(["claimed_by"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_request_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index("ix_callback_request_queue", ["status", "study_id"], unique=False)


def downgrade() -> None:
    op.drop_table("callback_request")
