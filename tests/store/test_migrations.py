"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from consentbot.domain.outbox import PROACTIVE, OutboxKind
from consentbot.store import migrate, tables  # noqa: F401  (tables: registers them)
from consentbot.store.database import sync_url


def test_migrated_schema_matches_models(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_old_codes_and_links_are_redacted_once_sent(tmp_path: Path) -> None:
    """Migration 0005: messages from before encrypted secrets keep no code or link once
    settled; one still waiting keeps its text (it needs it to be sent)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    config = migrate.alembic_config(url)
    command.upgrade(config, "0004")
    engine = create_engine(sync_url(url))
    rows = [
        ("verification", "sent", "Your code is 123456. Type it on the web page."),
        ("invitation", "sent", "Read more: https://x.example/i/abcdefghijklmnopqrstuvwx"),
        ("invitation", "pending", "Read more: https://x.example/i/abcdefghijklmnopqrstuvwx"),
        ("reply", "sent", "Call 0161 123456 with questions."),
    ]
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contact (phone_hash, phone_encrypted, stopped, created_at) "
                    "VALUES ('h', 'x', false, '2026-01-01')"
                )
            )
            for n, (kind, status, body) in enumerate(rows):
                connection.execute(
                    text(
                        "INSERT INTO outbox (contact_id, reference, kind, body, ucs2, segments, "
                        "always, status, attempts, send_after, created_at) VALUES (1, :ref, :kind, "
                        ":body, false, 1, false, :status, 1, '2026-01-01', '2026-01-01')"
                    ),
                    {"ref": f"r{n}", "kind": kind, "body": body, "status": status},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            bodies = [row[0] for row in connection.execute(text("SELECT body FROM outbox ORDER BY id"))]
    finally:
        engine.dispose()
    assert bodies == [
        "Your code is [secret]. Type it on the web page.",
        "Read more: https://x.example/i/[secret]",
        rows[2][2],
        rows[3][2],
    ]


def test_permitted_purposes_are_filled_from_the_current_consent(database_url: str) -> None:
    """Migration 0021: each participant's active purposes, sorted, as the ledger keeps them."""
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0020")
    engine = create_engine(sync_url(database_url))
    states = {
        1: [("updates", "active"), ("records-research", "active"), ("recontact", "pending")],
        2: [("records-research", "withdrawn")],
        3: [],
    }
    try:
        with engine.begin() as connection:
            for n, rows in states.items():
                connection.execute(
                    text(
                        "INSERT INTO contact (id, phone_hash, phone_encrypted, stopped, created_at) "
                        "VALUES (:n, :hash, 'x', false, '2026-01-01')"
                    ),
                    {"n": n, "hash": f"h{n}"},
                )
                connection.execute(
                    text(
                        "INSERT INTO participant (id, study_id, reference, contact_id, language, "
                        "joined_by, conversation, content_version, ledger_seq, ledger_head, "
                        "created_at, updated_at) VALUES (:n, 's', :ref, :n, 'en', 'invitation', "
                        "'{}', 1, 0, 'g', '2026-01-01', '2026-01-01')"
                    ),
                    {"n": n, "ref": f"P-{n}"},
                )
                for purpose, status in rows:
                    connection.execute(
                        text(
                            "INSERT INTO consent_state (participant_id, purpose_id, status, since, "
                            "content_version, language) VALUES (:n, :purpose, :status, '2026-01-01', 1, 'en')"
                        ),
                        {"n": n, "purpose": purpose, "status": status},
                    )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            stored: dict[str, str] = dict(connection.execute(text("SELECT reference, permitted_purposes FROM participant")).all())
    finally:
        engine.dispose()
    assert stored == {"P-1": " records-research updates ", "P-2": "", "P-3": ""}


def test_messages_we_start_are_marked_paced(database_url: str) -> None:
    """Migration 0022: each queued message's ``paced`` says whether its kind is one we
    start, the set the dispatcher paces and holds for quiet hours."""
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0021")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contact (id, phone_hash, phone_encrypted, stopped, created_at) "
                    "VALUES (1, 'h1', 'x', false, '2026-01-01')"
                )
            )
            for n, kind in enumerate(OutboxKind, start=1):
                connection.execute(
                    text(
                        "INSERT INTO outbox (contact_id, reference, kind, body, ucs2, segments, always, "
                        "status, attempts, send_after, created_at) VALUES (1, :ref, :kind, 'hi', false, 1, "
                        "false, 'pending', 0, '2026-01-01', '2026-01-01')"
                    ),
                    {"ref": f"r{n}", "kind": kind.value},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            stored: dict[str, object] = dict(connection.execute(text("SELECT kind, paced FROM outbox")).all())
    finally:
        engine.dispose()
    assert {OutboxKind(kind): bool(paced) for kind, paced in stored.items()} == {
        kind: kind in PROACTIVE for kind in OutboxKind
    }
