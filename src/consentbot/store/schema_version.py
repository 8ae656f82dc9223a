"""Which migration the database is at, and which one this code expects."""

from __future__ import annotations

from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.migrate import MIGRATIONS

VERSION_TABLE = "alembic_version"


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def code_head() -> str:
    """The newest migration shipped with this code (read once from the migration files)."""
    head = _scripts().get_current_head()
    assert head is not None, "the migrations have no head"
    return head


@cache
def known_revisions() -> frozenset[str]:
    """Every migration shipped with this code: a database at another was migrated by newer code."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


async def database_revision(session: AsyncSession) -> str | None:
    """The migration recorded in the database, or None if it was never migrated.

    Runs ``SELECT 1`` first, so an unreachable database raises the driver's error here.
    """
    connection = await session.connection()
    await connection.execute(text("SELECT 1"))
    migrated = await connection.run_sync(lambda sync: inspect(sync).has_table(VERSION_TABLE))
    if not migrated:
        return None
    rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    return str(rows[0][0]) if len(rows) == 1 else None
