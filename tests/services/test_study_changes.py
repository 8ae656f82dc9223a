"""A published change asks again exactly the people it concerns, whatever they were doing.

Six people are at different places when version 2 changes the commercial purpose with
``reconsent: required``: one has confirmed, one is cooling off, one is half-way through
the questions, one said no to the company, one withdrew and one sent STOP. Only those
whose yes to that purpose was pending or active are moved to ``reconsent_required`` and,
unless they sent STOP, texted; each then answers (or does not) as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from tests.conftest import AppClient
from tests.support.content import sample_copy
from tests.support.journey import ResearchSystem
from tests.support.study_changes import CHANGE_EN, publish_change
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]
COMMERCIAL = "commercial-partner"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The service on its own copy of content/, which the test changes and publishes."""
    return settings.with_(content_dir=sample_copy(tmp_path / "content"))


class People:
    """The research system and one phone per person, by reference."""

    def __init__(self, client: AppClient, twilio: FakeTwilio, loops: Loops) -> None:
        self.client = client
        self.twilio = twilio
        self.loops = loops
        self.phones: dict[str, TwilioPhone] = {}
        self.research: ResearchSystem | None = None

    async def invite(self, reference: str, number: str) -> None:
        if self.research is None:
            self.research = await ResearchSystem.register(self.client)
        await self.research.invite(number, reference)
        self.phones[reference] = TwilioPhone(self.client, self.twilio, number)
        await self.loops()
        self.phones[reference].text()

    async def say(self, reference: str, *texts: str) -> str:
        phone = self.phones[reference]
        for text in texts:
            await phone.send(text)
        await self.loops()
        return phone.text()

    async def status(self, reference: str) -> str:
        assert self.research is not None
        return (await self.research.consent(reference))[COMMERCIAL]


@pytest.fixture
async def people(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops
) -> People:
    found = People(client, fake_twilio, run_loops)
    for reference, number in (
        ("active", "+447400900601"),
        ("cooling", "+447400900602"),
        ("midway", "+447400900603"),
        ("said-no", "+447400900604"),
        ("withdrew", "+447400900605"),
        ("stopped", "+447400900606"),
    ):
        await found.invite(reference, number)
    for reference in ("active", "withdrew", "stopped"):
        await found.say(reference, "YES", "YES", "YES", "YES", "YES", "YES")
    await found.say("said-no", "YES", "YES", "YES", "NO", "YES", "YES")
    clock.advance(timedelta(days=1, hours=1))
    await run_loops()
    for reference in ("active", "withdrew", "stopped"):
        assert "now count" in await found.say(reference, "CONFIRM")
    await found.say("withdrew", "WITHDRAW")
    await found.say("stopped", "STOP")
    await found.say("cooling", "YES", "YES", "YES", "YES", "YES", "YES")
    # Half-way: yes to records, no to social care, yes to the company; asked question 4.
    assert "Question 4 of 5" in await found.say("midway", "YES", "YES", "NO", "YES")
    for phone in found.phones.values():
        phone.text()  # reminders and replies so far: each test reads what comes next
    return found


async def test_only_people_whose_yes_the_change_concerns_are_asked_again(
    people: People, client: AppClient, clock: ManualClock, run_loops: Loops
) -> None:
    before = {ref: await people.status(ref) for ref in people.phones}
    assert before == {
        "active": "active",
        "cooling": "pending",
        "midway": "pending",
        "said-no": "declined",
        "withdrew": "withdrawn",
        "stopped": "active",
    }
    summary = await publish_change(client)
    assert summary.participants == 4
    assert summary.stopped == 1
    assert summary.by_purpose_and_status == {(COMMERCIAL, "active"): 2, (COMMERCIAL, "pending"): 2}
    await run_loops()

    after = {ref: await people.status(ref) for ref in people.phones}
    assert after == before | {
        ref: "reconsent_required" for ref in ("active", "cooling", "midway", "stopped")
    }
    texts = {ref: phone.text() for ref, phone in people.phones.items()}
    for ref in ("active", "cooling", "midway"):
        assert CHANGE_EN in texts[ref]
        assert "does not count now" in texts[ref]
    assert "Question 1 of 1" in texts["active"]
    # The person half-way through is asked the changed question first, then carries on.
    assert "Question 1 of 3" in texts["midway"]
    assert texts["said-no"] == texts["withdrew"] == texts["stopped"] == ""
    assert summary.messages == 3

    # Every other purpose is untouched, and the ledger says who, why and which version.
    assert people.research is not None
    consent = await people.research.consent("active")
    assert {p: s for p, s in consent.items() if p != COMMERCIAL} == dict.fromkeys(
        ("records-research", "social-care-linkage", "recontact", "updates"), "active"
    )
    last = (await people.research.history("active"))[-1]
    assert (last["action"], last["from"], last["to"]) == (
        "require-reconsent",
        "active",
        "reconsent_required",
    )
    assert (last["content_version"], last["actor"], last["auth"]) == (2, "system", "system")
    meaning = (await people.research.consent_json("active"))["purposes"][COMMERCIAL]
    assert meaning["permitted"] is False
    assert "asked again" in meaning["meaning"]


async def test_answers_after_a_change_follow_the_usual_rules(
    people: People, client: AppClient, clock: ManualClock, run_loops: Loops
) -> None:
    await publish_change(client)
    await run_loops()
    for phone in people.phones.values():
        phone.text()

    # A yes cools off and needs CONFIRM; CHOICES says so in plain words meanwhile.
    assert "do not count yet" in await people.say("active", "YES")
    assert await people.status("active") == "pending"
    assert "Not yet" in await people.say("active", "CONFIRM")
    choices = await people.say("cooling", "CHOICES")
    assert "the study changed this, so your earlier yes does not count" in choices
    # A no ends it at once.
    await people.say("cooling", "NO")
    assert await people.status("cooling") == "withdrawn"
    # Half-way: the changed question, then the two still unanswered.
    assert "Question 2 of 3" in await people.say("midway", "YES")
    await people.say("midway", "NO", "YES")
    assert await people.status("midway") == "pending"

    clock.advance(timedelta(days=1, hours=1))
    await run_loops()
    assert "now count" in await people.say("active", "CONFIRM")
    assert await people.status("active") == "active"

    # Nobody answered for the person who sent STOP: after confirm_within it expires, unsent.
    clock.advance(timedelta(days=14))
    await run_loops()
    assert await people.status("stopped") == "expired"
    assert people.phones["stopped"].text() == ""
    assert await people.status("active") == "active"


async def test_a_dry_run_counts_the_real_cost_and_changes_nothing(
    people: People, client: AppClient, clock: ManualClock, run_loops: Loops
) -> None:
    before = {ref: await people.status(ref) for ref in people.phones}
    summary = await publish_change(client, dry_run=True)
    assert (summary.participants, summary.stopped, summary.messages) == (4, 1, 3)
    assert summary.segments >= summary.messages
    assert "4 participant(s) asked again" in "\n".join(summary.lines())
    await run_loops()
    assert {ref: await people.status(ref) for ref in people.phones} == before
    assert all(phone.text() == "" for phone in people.phones.values())


async def test_notify_tells_without_changing_anything(
    people: People, client: AppClient, clock: ManualClock, run_loops: Loops
) -> None:
    before = {ref: await people.status(ref) for ref in people.phones}
    summary = await publish_change(client, reconsent="notify")
    assert summary.participants == 4
    await run_loops()
    assert {ref: await people.status(ref) for ref in people.phones} == before
    told = people.phones["active"].text()
    assert CHANGE_EN in told
    assert "You do not need to do anything" in told
    assert people.phones["said-no"].text() == ""
