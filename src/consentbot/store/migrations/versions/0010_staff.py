"""staff: accounts and roles, sessions, set-password links, login failures, access log

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:20:12.878782
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", _text(254), nullable=False),
        sa.Column("role", _text(32), nullable=False),
        sa.Column("studies", _text(), nullable=False),
        sa.Column("organisation", _text(200), nullable=True),
        sa.Column("password_hash", _text(), nullable=True),
        sa.Column("totp_secret_encrypted", _text(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("disabled_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _text(64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", _text(64), nullable=False),
        sa.Column("second_factor_at", _AT, nullable=True),
        sa.Column("pending_totp_encrypted", _text(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("last_seen_at", _AT, nullable=False),
        sa.Column("ended_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_session_staff_user_id"), ["staff_user_id"], unique=False
        )

    op.create_table(
        "staff_password_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _text(64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("staff_password_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_password_token_staff_user_id"), ["staff_user_id"], unique=False
        )

    op.create_table(
        "staff_login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", _text(64), nullable=False),
        sa.Column("occurred_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_login_failure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_login_failure_key", ["key_hash", "occurred_at"], unique=False
        )

    op.create_table(
        "staff_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("reason", _text(32), nullable=False),
        sa.Column("occurred_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_access_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_access_log_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_access_log_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_access_log_staff_user_id"), ["staff_user_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("staff_access_log")
    op.drop_table("staff_login_failure")
    op.drop_table("staff_password_token")
    op.drop_table("staff_session")
    op.drop_table("staff_user")
