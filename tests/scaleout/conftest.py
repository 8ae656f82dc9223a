"""Fixtures for several processes on one database: PostgreSQL-only tests, two apps at once."""

from __future__ import annotations

import pytest

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
"""For behaviour only PostgreSQL has (SKIP LOCKED, row locks across processes; SQLite has one
writer). The ``postgres`` mark keeps them in CI, where a missing server fails the run."""
