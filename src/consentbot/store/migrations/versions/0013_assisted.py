"""assisted: sessions in which a community worker helps a person in person

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assisted_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("web_session_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("interpreter", sa.Boolean(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("ends_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.ForeignKeyConstraint(["web_session_id"], ["web_session.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assisted_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assisted_session_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assisted_session_ends_at"), ["ends_at"], unique=False)


def downgrade() -> None:
    op.drop_table("assisted_session")
