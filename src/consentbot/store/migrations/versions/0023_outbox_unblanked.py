"""ix_outbox_unblanked: retention finds the messages whose text it has still to blank

Retention blanks the text of messages settled before its cut-off, hourly, in batches. Its
read went through ``ix_outbox_due`` (status, send_after): every settled message older than
the cut-off, blanked long ago or not, was read and sorted to find the few still holding
text, so the read grew with every message ever sent. This partial index holds only the
messages that still have a body or a secret: after a sweep, the recent ones.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration must not change when the model's text does.
_UNBLANKED = "body <> '' OR secret_encrypted IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_outbox_unblanked",
        "outbox",
        ["send_after"],
        unique=False,
        sqlite_where=sa.text(_UNBLANKED),
        postgresql_where=sa.text(_UNBLANKED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unblanked", table_name="outbox")
