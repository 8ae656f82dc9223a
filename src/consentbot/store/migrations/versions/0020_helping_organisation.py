"""participant.organisation, and assisted visits that end on their own

A person belongs to the community organisation that helps them
(``participant.organisation``): only its workers may open them or see their call-backs.
An assisted session records when it was last used and when it ended
(``last_active_at``, ``closed_at``), so a visit left idle still sends its receipt.

Sessions that exist at upgrade count as ended when their visit ended: none of them
sends a receipt late.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
    with op.batch_alter_table("assisted_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_active_at", _AT, nullable=True))
        batch_op.add_column(sa.Column("closed_at", _AT, nullable=True))
    op.execute("UPDATE assisted_session SET last_active_at = started_at, closed_at = ends_at")
    # Sessions opened by a community worker made their organisation the person's helper.
    op.execute(
        "UPDATE participant SET organisation = ("
        " SELECT a.organisation FROM assisted_session a"
        " WHERE a.participant_id = participant.id AND a.organisation IS NOT NULL"
        " ORDER BY a.id LIMIT 1)"
        " WHERE organisation IS NULL"
    )
    with op.batch_alter_table("assisted_session", schema=None) as batch_op:
        batch_op.alter_column("last_active_at", existing_type=_AT, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("assisted_session", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("last_active_at")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("organisation")
