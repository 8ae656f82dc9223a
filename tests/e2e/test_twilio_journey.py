"""The consent journey through Twilio's protocol, in every shipped language, on both databases.

The journey itself is the one every gateway runs (tests/support/consent_journey.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from consentbot.services.clock import ManualClock
from tests.conftest import AppClient, each_language_then_postgres
from tests.support.consent_journey import consent_journey, study_in
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]


class TwilioJourneyPhone:
    """A :class:`TwilioPhone` as the shared journey drives it."""

    def __init__(self, phone: TwilioPhone) -> None:
        self.phone = phone
        self.number = phone.number

    async def send(self, text: str) -> str:
        return await self.phone.send(text)

    async def text(self) -> str:
        return self.phone.text()


@each_language_then_postgres(["en", "cy", "pl", "ur"], on_postgres="ur")
async def test_invitation_to_confirm_to_withdraw(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, language: str
) -> None:
    phone = TwilioPhone(client, fake_twilio, "+447400900101")
    await consent_journey(
        client,
        clock,
        TwilioJourneyPhone(phone),
        language=language,
        gateway="twilio",
        invite_as="07400 900101",
    )


async def test_replayed_webhook_changes_nothing_and_sends_nothing(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900102")
    await research.invite(phone.number, "P-0002")
    await run_loops()
    phone.new_messages()
    await phone.send("YES")
    sid = await phone.send("YES")
    await run_loops()
    assert len(phone.new_messages()) == 2
    await phone.send("YES", sid=sid)
    await run_loops()
    assert phone.new_messages() == []
    consent = await research.consent("P-0002")
    assert consent["records-research"] == "pending"
    assert consent["social-care-linkage"] == "none"


async def test_declining_the_required_purpose_declines_the_study(
    client: AppClient, fake_twilio: FakeTwilio, run_loops: Loops
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900103")
    await research.invite(phone.number, "P-0003")
    await phone.send("YES")
    await phone.send("no")
    await run_loops()
    replies = phone.new_messages()
    assert "said no to taking part" in replies[-1]
    assert "Question 2" not in "".join(replies)
    consent = await research.consent("P-0003")
    assert consent["records-research"] == "declined"
    assert set(consent.values()) == {"declined", "none"}


async def test_change_narrowing_is_immediate_and_widening_cools_off_again(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    study = study_in(client)
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900104")
    await research.invite(phone.number, "P-0004")
    for answer in ["YES", "YES", "YES", "NO", "NO", "NO"]:
        await phone.send(answer)
    clock.advance(study.cooling_off.period)
    await phone.send("CONFIRM")
    assert await research.consent("P-0004") == {
        "records-research": "active",
        "social-care-linkage": "active",
        "commercial-partner": "declined",
        "recontact": "declined",
        "updates": "declined",
    }
    # CHANGE: keep research, drop social care, add commercial partner.
    for answer in ["CHANGE", "YES", "NO", "YES", "NO", "NO"]:
        await phone.send(answer)
    consent = await research.consent("P-0004")
    assert consent["records-research"] == "active"
    assert consent["social-care-linkage"] == "withdrawn"
    assert consent["commercial-partner"] == "pending"
    await phone.send("CONFIRM")
    assert (await research.consent("P-0004"))["commercial-partner"] == "pending"
    clock.advance(study.cooling_off.period)
    await phone.send("CONFIRM")
    assert (await research.consent("P-0004"))["commercial-partner"] == "active"
    await run_loops()


async def test_stop_silences_everything_but_changes_no_consent(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> None:
    study = study_in(client)
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900105")
    await research.invite(phone.number, "P-0005")
    for answer in ["YES", "YES", "NO", "NO", "NO", "NO"]:
        await phone.send(answer)
    await run_loops()
    phone.new_messages()
    await phone.send("Stop please")
    await run_loops()
    stopped = phone.text()
    assert "have not changed" in stopped
    assert "START" in stopped
    assert (await research.consent("P-0005"))["records-research"] == "pending"
    # No reminder to a stopped number; nothing but START lifts the STOP.
    clock.advance(study.cooling_off.period + timedelta(minutes=1))
    await run_loops()
    await phone.send("JOINTS")
    await phone.send("HELP")
    await run_loops()
    assert phone.new_messages() == []
    # Withdrawing still works while stopped (silently, as asked).
    await phone.send("WITHDRAW")
    await run_loops()
    assert phone.new_messages() == []
    assert (await research.consent("P-0005"))["records-research"] == "withdrawn"
    await phone.send("START")
    await run_loops()
    started = phone.text()
    assert "again" in started
    await phone.send("CHOICES")
    await run_loops()
    assert "no (you withdrew)" in phone.text()
