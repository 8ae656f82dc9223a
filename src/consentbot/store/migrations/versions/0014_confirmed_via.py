"""confirmed_via: a confirmation a worker recorded, given in person or by a phone call

The ledger names how it was given (``consent_event.confirmed_via``, hashed when set);
the assisted session keeps when it happened and the worker's note (never hashed), and
what its receipt to the person covered (``receipt_seq``, ``no_phone``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmed_via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
    with op.batch_alter_table("assisted_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmed_via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("confirmed_at", _AT, nullable=True))
        batch_op.add_column(
            sa.Column(
                "confirmation_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("receipt_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("no_phone", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The defaults only fill rows that exist now; the service always sets both.
    with op.batch_alter_table("assisted_session", schema=None) as batch_op:
        batch_op.alter_column("receipt_seq", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column("no_phone", existing_type=sa.Boolean(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("assisted_session", schema=None) as batch_op:
        batch_op.drop_column("no_phone")
        batch_op.drop_column("receipt_seq")
        batch_op.drop_column("confirmation_note")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("confirmed_via")
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_column("confirmed_via")
