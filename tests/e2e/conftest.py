"""The end-to-end tests' own fixture: a database a test can take away."""

from __future__ import annotations

from tests.support.outage import outage  # noqa: F401 (a fixture)
