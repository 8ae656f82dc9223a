"""The staff browser of tests/staff, on content with a second study (for another study's team)."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentbot.settings import Settings
from tests.staff.conftest import make_staff, staff  # noqa: F401  (the staff tests' fixtures)
from tests.support.content import with_second_study


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_(content_dir=with_second_study(tmp_path / "content"))
