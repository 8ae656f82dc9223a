"""NotFromIndex: ``+column`` for SQLite's planner, the column unchanged for PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from consentbot.store.index_choice import NotFromIndex
from consentbot.store.tables import Timer


def test_sqlite_is_told_not_to_seek_the_column_and_postgresql_sees_it_plain() -> None:
    statement = select(col(Timer.id)).where(NotFromIndex(col(Timer.status)) == "pending")
    assert "WHERE +timer.status = ?" in str(statement.compile(dialect=sqlite.dialect()))
    on_postgresql = postgresql.dialect()  # type: ignore[no-untyped-call]
    assert "WHERE timer.status = %(param_1)s" in str(statement.compile(dialect=on_postgresql))


def test_statements_on_different_columns_are_cached_apart() -> None:
    """The statement cache keys on the column inside: two columns are two statements."""
    on_status = select(col(Timer.id)).where(NotFromIndex(col(Timer.status)) == "pending")
    on_kind = select(col(Timer.id)).where(NotFromIndex(col(Timer.kind)) == "pending")
    again = select(col(Timer.id)).where(NotFromIndex(col(Timer.status)) == "pending")
    assert on_status._generate_cache_key() != on_kind._generate_cache_key()
    assert on_status._generate_cache_key() == again._generate_cache_key()
