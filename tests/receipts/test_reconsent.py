"""Re-consent: the text asking again carries a receipt, and so does the later CONFIRM of the
new version; both are bound to version 2 of the study."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.receipts.support import Texter, receipt_line, reference_in
from tests.receipts.test_sms import confirmed
from tests.support.content import sample_copy
from tests.support.study_changes import CHANGE_EN, publish_change
from tests.support.twilio_fake import FakeTwilio


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The service on its own copy of content/, which the test changes and publishes."""
    return settings.with_(content_dir=sample_copy(tmp_path / "content"))


async def test_asked_again_and_confirmed_again_each_with_a_receipt(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    person = Texter(client, fake_twilio, clock, "+447400900811", "P-0811")
    first = reference_in(await confirmed(person, "en"))
    assert first is not None

    await publish_change(client)
    asked = await person.say()
    assert CHANGE_EN in asked
    second = reference_in(asked)
    assert second is not None
    assert receipt_line("en", second) in asked

    assert reference_in(await person.say("YES")) is None  # cooling off again
    clock.advance(timedelta(days=1, minutes=1))
    await person.say()
    again = await person.say("CONFIRM")
    third = reference_in(again)
    assert third is not None
    assert receipt_line("en", third) in again

    receipts = {r["reference"]: r["receipt"] for r in await person.receipts()}
    assert list(receipts) == [third, second, first]
    versions = {ref: r["processing"]["contentVersion"] for ref, r in receipts.items()}
    assert versions == {first: 1, second: 2, third: 2}
    assert receipts[second]["processing"]["policyUrl"].endswith("/versions/2")
    [asked_event] = receipts[second]["events"]
    assert (asked_event["action"], asked_event["to"], asked_event["auth"]) == (
        "require-reconsent",
        "reconsent_required",
        "system",
    )
    [confirm_event] = receipts[third]["events"]
    assert (confirm_event["purpose"], confirm_event["to"]) == ("commercial-partner", "active")
