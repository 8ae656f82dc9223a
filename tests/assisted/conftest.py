"""The staff browser fixtures of tests/staff, shared with the assisted sessions' tests."""

from __future__ import annotations

from tests.staff.conftest import make_staff, staff

__all__ = ["make_staff", "staff"]
