"""participant.permitted_purposes: the consent check answers from one index

A data pipeline's consent check asks about up to 100,000 participants. It read each one's
status from consent_state: two index probes per participant. The purposes a participant
permits today now sit on their own row, as ``" a b "`` (domain/permitted.py), in an index
with the study and reference: one probe each. The ledger keeps it in step with
consent_state from now on; here it is filled from consent_state once.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Purpose ids are slugs (no spaces): sorted, each with a space either side.
_POSTGRESQL = """
UPDATE participant AS p
SET permitted_purposes = ' ' || a.purposes || ' '
FROM (
    SELECT participant_id, string_agg(purpose_id, ' ' ORDER BY purpose_id) AS purposes
    FROM consent_state WHERE status = 'active' GROUP BY participant_id
) AS a
WHERE a.participant_id = p.id
"""

# SQLite's group_concat takes the order of the rows it is given.
_SQLITE = """
UPDATE participant
SET permitted_purposes = ' ' || (
    SELECT group_concat(purpose_id, ' ') FROM (
        SELECT purpose_id FROM consent_state
        WHERE participant_id = participant.id AND status = 'active'
        ORDER BY purpose_id
    )
) || ' '
WHERE id IN (SELECT participant_id FROM consent_state WHERE status = 'active')
"""


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "permitted_purposes",
                sqlmodel.sql.sqltypes.AutoString(length=2000),
                nullable=False,
                server_default="",
            )
        )
    op.execute(_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE)
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_participant_consent_check",
            ["study_id", "reference", "permitted_purposes"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_consent_check")
        batch_op.drop_column("permitted_purposes")
