"""redact codes and personal links left in clear by messages sent before 0003

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00

Messages written before outbox secrets were encrypted kept one-time codes and link
tokens in their bodies. Those already settled (sent, failed, suppressed...) need them no
more: the secret is replaced by the marker that new messages carry. A message still
waiting to be sent keeps its text (it needs it, and a migration holds no key to encrypt
it with); retention empties its body once it has gone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKER = "[secret]"
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
LINK_TOKEN = re.compile(r"(/i/)[A-Za-z0-9_-]{16,}")
REDACT = {
    "verification": lambda body: CODE.sub(MARKER, body, count=1),
    "invitation": lambda body: LINK_TOKEN.sub(rf"\g<1>{MARKER}", body),
}


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, kind, body FROM outbox WHERE kind IN ('verification', 'invitation') "
            "AND status NOT IN ('pending', 'sending') AND secret_encrypted IS NULL"
        )
    ).all()
    for message_id, kind, body in rows:
        redacted = REDACT[kind](body)
        if redacted != body:
            connection.execute(
                sa.text("UPDATE outbox SET body = :body WHERE id = :id"),
                {"body": redacted, "id": message_id},
            )


def downgrade() -> None:
    # What was redacted is gone for good: that is the point.
    pass
