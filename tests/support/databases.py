"""Test databases: a migrated SQLite file per test, and one migrated PostgreSQL database per run.

PostgreSQL tests run when CONSENTBOT_TEST_POSTGRES_URL is set (e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/test). Under CI they must never skip:
a missing or unreachable server fails the run instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from consentbot.store import migrate

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For a test whose behaviour cannot differ between the databases (a refusal decided before
any query, a subprocess's output format): one run is enough, on the embedded default."""

TABLES = (
    "announcement_recipient",
    "announcement",
    "access_request",
    "data_access_participant",
    "data_access",
    "access_chain",
    "webhook_delivery",
    "webhook",
    "consent_receipt",
    "callback_request",
    "staff_access_log",
    "staff_login_failure",
    "staff_password_token",
    "staff_session",
    "staff_user",
    "study_change_applied",
    "published_versions",
    "consent_event",
    "consent_state",
    "timer",
    "outbox",
    "inbound_message",
    "participant",
    "contact",
    "api_token",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def postgres_admin_url() -> str | None:
    url = os.environ.get("CONSENTBOT_TEST_POSTGRES_URL")
    if not url:
        if in_ci():
            pytest.fail("CI=true but CONSENTBOT_TEST_POSTGRES_URL is not set: PostgreSQL tests would skip")
        return None
    return url


def _psycopg_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class PostgresDatabase:
    """A throw-away database on the test server, migrated once, emptied between tests."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"consentbot_test_{uuid.uuid4().hex[:10]}"
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)

    def create(self) -> None:
        try:
            with psycopg.connect(_psycopg_dsn(self.admin_url), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.OperationalError as error:
            message = f"PostgreSQL at CONSENTBOT_TEST_POSTGRES_URL is unreachable: {error}"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
        migrate.upgrade(self.url)

    def truncate(self) -> None:
        with psycopg.connect(_psycopg_dsn(self.url), autocommit=True) as conn:
            conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")

    def drop(self) -> None:
        with psycopg.connect(_psycopg_dsn(self.admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class SqliteTemplate:
    """Migrating takes a while; copying a migrated file is instant."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.db"
        migrate.upgrade(f"sqlite+aiosqlite:///{self.path}")

    def fresh(self, folder: Path) -> str:
        target = folder / "consentbot.db"
        shutil.copyfile(self.path, target)
        return f"sqlite+aiosqlite:///{target}"


async def aiosqlite_threads_finished() -> None:
    """Wait for every aiosqlite worker thread to end.

    aiosqlite stops the thread of a connection that failed to open without awaiting it,
    and the thread then reports to the event loop: wait for it while the loop is open.
    Call it only when no connection is meant to be open.
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 10)
