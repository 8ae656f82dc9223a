"""The cohort tests invite to the sample study as a research team would: published first.

Only ``serve`` publishes a study never published; ``consentbot invite --file`` refuses one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from consentbot.runtime import load_content, open_runtime
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.support.content import awake_copy
from tests.support.journey import STUDY


@pytest.fixture
async def settings(settings: Settings, clock: ManualClock, tmp_path: Path) -> Settings:
    """The shared settings, with the sample study's files published by "Dr Ada".

    Without quiet hours: ``invite --file`` runs as a real process on the wall clock, and
    would hold every invitation until morning when the suite runs in the evening.
    """
    settings = settings.with_(content_dir=awake_copy(tmp_path / "awake"))
    async with open_runtime(settings, load_content(settings), clock=clock) as runtime:
        await runtime.publishing.publish(STUDY, "Dr Ada")
    return settings
