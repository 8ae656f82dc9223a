"""Erasure keeps the receipts already issued (reference only, no number) and issues none."""

from __future__ import annotations

from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.receipts.support import Texter, reference_in
from tests.receipts.test_sms import confirmed
from tests.support.cli import consentbot
from tests.support.journey import STUDY
from tests.support.twilio_fake import FakeTwilio


async def test_an_erased_participant_keeps_the_receipts_given_and_gets_no_new_one(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, settings: Settings
) -> None:
    person = Texter(client, fake_twilio, clock, "+447400900841", "P-0841")
    reference = reference_in(await confirmed(person, "en"))
    done = consentbot(settings, "participant", "erase", "--study", STUDY, "--reference", "P-0841")
    assert done.returncode == 0, done.stderr
    receipts = await person.receipts()
    assert [r["reference"] for r in receipts] == [reference]
    assert reference_in(await person.say()) is None  # nothing is texted about the erasure
