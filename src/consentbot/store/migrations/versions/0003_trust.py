"""trust: provenance on events, routing by prompt, bound links, outbox secrets, one-time forms

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:18:44.887031
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import consentbot.store.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = consentbot.store.types.UTCDateTime(timezone=True)


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "web_form_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("web_session_id", sa.Integer(), nullable=False),
        sa.Column("form_hash", _text(64), nullable=False),
        sa.Column("used_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["web_session_id"], ["web_session.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("web_session_id", "form_hash"),
    )
    with op.batch_alter_table("web_form_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_form_use_used_at"), ["used_at"], unique=False)

    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth", _text(16), nullable=True))
        batch_op.add_column(sa.Column("assisted_by", _text(200), nullable=True))
        batch_op.add_column(sa.Column("confirm_from", _AT, nullable=True))
        batch_op.add_column(sa.Column("confirm_by", _AT, nullable=True))

    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_level", _text(32), nullable=True))
    # Withdrawals recorded before the level was kept on the projection.
    op.execute(
        "UPDATE consent_state SET withdrawal_level = 'no-further-use' WHERE status = 'withdrawn'"
    )

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stopped_by", _text(16), nullable=True))
        batch_op.add_column(sa.Column("prompted_participant_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("erased_at", _AT, nullable=True))
    # The study a number last talked about is the best guess of what it was last asked.
    op.execute("UPDATE contact SET prompted_participant_id = current_participant_id")
    op.execute("UPDATE contact SET stopped_by = 'sms' WHERE stopped")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("current_participant_id")

    with op.batch_alter_table("invitation_link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("web_session_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", _AT, nullable=True))
        batch_op.create_foreign_key(
            "fk_invitation_link_web_session_id", "web_session", ["web_session_id"], ["id"]
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", _text(32), nullable=True))
        batch_op.add_column(sa.Column("secret_encrypted", _text(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", _AT, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_participant_id"), ["participant_id"], unique=False
        )
    # Existing rows get references nobody can guess, like new ones.
    connection = op.get_bind()
    for (message_id,) in connection.execute(sa.text("SELECT id FROM outbox")).all():
        connection.execute(
            sa.text("UPDATE outbox SET reference = :reference WHERE id = :id"),
            {"reference": secrets.token_hex(16), "id": message_id},
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=_text(32), nullable=False)
        batch_op.create_unique_constraint("uq_outbox_reference", ["reference"])

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", _AT, nullable=True))

    with op.batch_alter_table("phone_verification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_hash", _text(64), nullable=False, server_default=""))
    with op.batch_alter_table("phone_verification", schema=None) as batch_op:
        batch_op.alter_column("client_hash", existing_type=_text(64), server_default=None)
        batch_op.create_index(
            batch_op.f("ix_phone_verification_client_hash"), ["client_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_phone_verification_created_at"), ["created_at"], unique=False
        )

    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth", _text(16), nullable=True))
        batch_op.add_column(
            sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("waiting_question", _text(), nullable=True))
    # Sessions linked before this revision were all linked by a texted code or a link;
    # which one was not recorded, so they stay unknown (None).
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.alter_column("language_chosen", existing_type=sa.Boolean(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_column("waiting_question")
        batch_op.drop_column("language_chosen")
        batch_op.drop_column("auth")

    with op.batch_alter_table("phone_verification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_verification_created_at"))
        batch_op.drop_index(batch_op.f("ix_phone_verification_client_hash"))
        batch_op.drop_column("client_hash")

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("erased_at")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_reference", type_="unique")
        batch_op.drop_index(batch_op.f("ix_outbox_participant_id"))
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("secret_encrypted")
        batch_op.drop_column("reference")

    with op.batch_alter_table("invitation_link", schema=None) as batch_op:
        batch_op.drop_constraint("fk_invitation_link_web_session_id", type_="foreignkey")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("web_session_id")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_participant_id", sa.INTEGER(), nullable=True))
    op.execute("UPDATE contact SET current_participant_id = prompted_participant_id")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("prompted_participant_id")
        batch_op.drop_column("stopped_by")

    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.drop_column("withdrawal_level")

    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_column("confirm_by")
        batch_op.drop_column("confirm_from")
        batch_op.drop_column("assisted_by")
        batch_op.drop_column("auth")

    with op.batch_alter_table("web_form_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_form_use_used_at"))
    op.drop_table("web_form_use")
