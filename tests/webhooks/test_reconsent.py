"""A published change that asks again reaches the receiver as ``reconsent_required``."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentbot import keys
from consentbot.settings import Settings
from tests.conftest import AppClient, settle
from tests.support.content import sample_copy
from tests.support.journey import STUDY, ResearchSystem
from tests.support.study_changes import publish_change
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.webhooks.support import Receiver


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The service on its own copy of content/, which the test changes and publishes."""
    return settings.with_(content_dir=sample_copy(tmp_path / "content"))


async def test_reconsent_required_is_delivered(
    client: AppClient, fake_twilio: FakeTwilio, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    await client.app[keys.WEBHOOKS].add(STUDY, url)
    research = await ResearchSystem.register(client)
    await research.invite("+447400900181", "K-1")
    phone = TwilioPhone(client, fake_twilio, "+447400900181")
    for answer in ["YES", "YES", "YES", "YES"]:  # start; records, social care, commercial: yes
        await phone.send(answer)
    await publish_change(client)
    await settle(client.app)
    await client.app[keys.WEBHOOK_DELIVERIES].deliver_due()
    commercial = [p for p in hooks.payloads() if p["purpose"] == "commercial-partner"]
    assert [(p["from"], p["to"], p["content_version"]) for p in commercial] == [
        ("none", "pending", 1),
        ("pending", "reconsent_required", 2),
    ]
