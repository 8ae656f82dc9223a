"""outbox.paced and two indexes: a claim reads due messages oldest first and stops

The dispatcher claims a batch of replies and a batch of messages we start on every round,
oldest first. Through ``ix_outbox_due`` (status, send_after) it read every due message,
checked each against its number's earlier messages, and sorted them all to keep the first
fifty: with a morning's reminders due, every round cost time in proportion to all of them,
on the event loop's thread (SQLite). ``paced`` marks the messages we start (the kinds in
``PROACTIVE``), so each side's queue is one range of ``ix_outbox_queue`` (status, paced,
id), read in id order up to the limit. ``ix_outbox_contact`` (contact_id, status, id)
replaces ``ix_outbox_contact_id``: the checks for an earlier message to the same number
that is being sent or waits for a retry become one probe each.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# OutboxKind values of PROACTIVE when this revision was written: a migration must not
# change meaning when the code's set changes later.
_PACED_KINDS = (
    "announcement",
    "assisted-receipt",
    "confirm-reminder",
    "expiry",
    "invitation",
    "later",
    "reconsent-expiry",
    "study-changed",
)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paced", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    outbox = sa.table("outbox", sa.column("kind", sa.String), sa.column("paced", sa.Boolean))
    op.execute(outbox.update().where(outbox.c.kind.in_(_PACED_KINDS)).values(paced=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_contact_id")
        batch_op.create_index("ix_outbox_queue", ["status", "paced", "id"], unique=False)
        batch_op.create_index("ix_outbox_contact", ["contact_id", "status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_contact")
        batch_op.drop_index("ix_outbox_queue")
        batch_op.create_index("ix_outbox_contact_id", ["contact_id"], unique=False)
        batch_op.drop_column("paced")
