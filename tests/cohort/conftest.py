"""The cohort tests invite to the sample study as a research team would: published first.

Only ``serve`` publishes a study never published; ``consentbot invite --file`` refuses one.
"""

from __future__ import annotations

import pytest

from consentbot.runtime import load_content, open_runtime
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.support.journey import STUDY


@pytest.fixture
async def settings(settings: Settings, clock: ManualClock) -> Settings:
    """The shared settings, with the sample study's files published by "Dr Ada"."""
    async with open_runtime(settings, load_content(settings), clock=clock) as runtime:
        await runtime.publishing.publish(STUDY, "Dr Ada")
    return settings
