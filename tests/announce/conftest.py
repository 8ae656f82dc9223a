"""The announcement tests run the service in process, on the app the real factory builds."""

from __future__ import annotations

import pytest

from consentbot import keys
from consentbot.services.announcements import AnnouncementService
from consentbot.services.clock import ManualClock
from consentbot.store.database import Database
from tests.announce.seed import Person, seed
from tests.conftest import AppClient, settle


@pytest.fixture
def announcements(client: AppClient) -> AnnouncementService:
    return AnnouncementService(client.app[keys.INVITATIONS].deps)


class Study:
    """The sample study with people in it, on the test app."""

    def __init__(self, client: AppClient, clock: ManualClock) -> None:
        self.client = client
        self.clock = clock
        self.db: Database = client.app[keys.DATABASE]

    async def add(self, persons: list[Person]) -> dict[str, int]:
        """Invite ``persons`` (their invitations sent) and set their ``updates`` state."""
        ids = await seed(self.db, self.client.app[keys.INVITATIONS], self.clock, persons)
        await settle(self.client.app)
        return ids


@pytest.fixture
def study(client: AppClient, clock: ManualClock) -> Study:
    return Study(client, clock)
