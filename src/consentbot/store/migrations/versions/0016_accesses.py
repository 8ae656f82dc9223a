"""accesses: records of who used participants' data, hash-chained per study

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "access_chain",
        sa.Column("study_id", _text(100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", _text(64), nullable=False),
        sa.PrimaryKeyConstraint("study_id"),
    )
    op.create_table(
        "data_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", _text(100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("purpose_id", _text(100), nullable=False),
        sa.Column("accessor_name", _text(200), nullable=False),
        sa.Column("accessor_organisation", _text(200), nullable=False),
        sa.Column("accessor_kind", _text(16), nullable=False),
        sa.Column("dataset", _text(200), nullable=False),
        sa.Column("reason", _text(1000), nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("participant_count", sa.Integer(), nullable=False),
        sa.Column("participants_digest", _text(64), nullable=False),
        sa.Column("prev_hash", _text(64), nullable=False),
        sa.Column("hash", _text(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "seq"),
    )
    op.create_table(
        "data_access_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("access_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("nonce", _text(32), nullable=True),
        sa.Column("link_hash", _text(64), nullable=False),
        sa.ForeignKeyConstraint(["access_id"], ["data_access.id"]),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("data_access_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_access_participant_access_id"), ["access_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_access_participant_participant_id"),
            ["participant_id"],
            unique=False,
        )
    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", _text(100), nullable=False),
        sa.Column("key_hash", _text(64), nullable=False),
        sa.Column("body_hash", _text(64), nullable=False),
        sa.Column("response", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "key_hash"),
    )


def downgrade() -> None:
    op.drop_table("access_request")
    op.drop_table("data_access_participant")
    op.drop_table("data_access")
    op.drop_table("access_chain")
