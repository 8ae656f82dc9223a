"""retention: indexes for purging by age and for erasing one person's rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): the hourly purge finds rows by age, erasure and session purges by owner.
# Without these each purge round would scan whole tables.
_INDEXES = (
    ("web_message", "created_at"),
    ("web_session", "expires_at"),
    ("inbound_message", "received_at"),
    ("inbound_message", "contact_id"),
    ("invitation_link", "web_session_id"),
)


def upgrade() -> None:
    for table, column in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
