"""The staff browser fixtures of tests/staff, on content with a second study (so a study
team of one study can be shown not to see the other)."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentbot.settings import Settings
from tests.staff.conftest import make_staff, staff
from tests.support.content import with_second_study

__all__ = ["make_staff", "settings", "staff"]


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_(content_dir=with_second_study(tmp_path / "content"))
