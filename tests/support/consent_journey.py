"""One consent journey, the same over every SMS gateway: each gateway's test supplies a phone.

Invitation -> MORE -> a topic -> its detail -> YES -> one answer per purpose -> CONFIRM too
early -> the reminder after cooling-off -> CONFIRM -> CHOICES -> WITHDRAW, with the consent
API checked after every step and the ledger checked at the end. What differs between
gateways is only how a text reaches the service and how a reply reaches the phone.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Protocol

from consentbot import keys
from consentbot.content.model import Study
from consentbot.conversation.vocabulary import Command
from consentbot.services.audit import LedgerAudit
from consentbot.services.clock import ManualClock
from tests.conftest import AppClient, settle
from tests.support.journey import PURPOSES, STUDY, ResearchSystem, link_in, translator, words

ANSWERS = {
    "records-research": True,
    "social-care-linkage": False,
    "commercial-partner": True,
    "recontact": False,
    "updates": True,
}
"""The journey's answer per purpose: a mix, so both pending and declined are seen."""


class JourneyPhone(Protocol):
    """A patient's phone on some gateway."""

    number: str

    async def send(self, text: str) -> object:
        """Text ``text``; return once the service has handled it."""
        ...

    async def text(self) -> str:
        """Everything that reached the phone since the last read, as one text."""
        ...


def study_in(client: AppClient) -> Study:
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    return study


async def consent_journey(
    client: AppClient,
    clock: ManualClock,
    phone: JourneyPhone,
    *,
    language: str,
    gateway: str,
    invite_as: str | None = None,
    reference: str = "P-0001",
) -> None:
    """Walk ``phone`` through the whole journey in ``language`` over ``gateway``.

    ``invite_as`` is the number as the research team writes it (the phone's by default).
    """
    study = study_in(client)
    text = study.text(language)
    w = words(language)
    research = await ResearchSystem.register(client)

    async def step(said: str) -> str:
        await phone.send(said)
        await settle(client.app)
        return await phone.text()

    async def consent() -> dict[str, str]:
        return await research.consent(reference)

    invited = await research.invite(invite_as or phone.number, reference, language)
    # Only the fields this journey is about (the response may carry more).
    expected_invite = {
        "study": STUDY, "participant": reference, "language": language,
        "created": True, "messages_stopped": False, "link_sent": True,
    }  # fmt: skip
    assert {key: invited.get(key) for key in expected_invite} == expected_invite
    await settle(client.app)
    invitation = await phone.text()
    link = link_in(invitation)
    assert link.startswith("https://consent.example.org/i/")
    assert len(link.rsplit("/", 1)[1]) >= 32
    assert text.title in invitation
    assert text.summary in invitation
    assert w.word(Command.MORE) in invitation
    nothing = dict.fromkeys(PURPOSES, "none")
    assert await consent() == nothing

    # Layers: topics, a topic's summary, then its detail; none of it changes consent.
    topics = await step(w.word(Command.MORE))
    assert all(topic.title in topics for topic in text.topics)
    assert await consent() == nothing
    assert text.topics[1].summary in await step("2")
    assert await consent() == nothing
    assert text.topics[1].detail.split("\n")[0] in await step(w.word(Command.MORE).lower() + "!")
    assert await consent() == nothing

    # One question per purpose, required first; the API follows every answer.
    assert text.purposes["records-research"].question in await step(w.word(Command.YES))
    assert await consent() == nothing
    expected = dict(nothing)
    for index, purpose in enumerate(PURPOSES):
        replies = await step(w.word(Command.YES if ANSWERS[purpose] else Command.NO))
        if index + 1 < len(PURPOSES):
            assert text.purposes[PURPOSES[index + 1]].question in replies
        expected[purpose] = "pending" if ANSWERS[purpose] else "declined"
        assert await consent() == expected

    # CONFIRM during cooling-off changes nothing and says from when it will work.
    clock.advance(timedelta(hours=2))
    too_early = await step(w.word(Command.CONFIRM))
    opens = study.cooling_off.opens_at(clock.now - timedelta(hours=2))
    assert translator(language).date_and_time(opens, study.timezone) in too_early
    assert await consent() == expected

    # After cooling-off the scheduler reminds; CONFIRM now makes the yeses count.
    clock.advance(study.cooling_off.period)
    await settle(client.app)
    assert w.word(Command.CONFIRM) in await phone.text()
    assert await consent() == expected
    confirmed = await step(w.word(Command.CONFIRM))
    assert text.purposes["records-research"].title in confirmed
    active = {p: ("active" if yes else "declined") for p, yes in ANSWERS.items()}
    assert await consent() == active

    choices = await step(w.word(Command.CHOICES))
    assert all(text.purposes[p].title in choices for p in PURPOSES)
    assert await consent() == active

    # Withdrawing is as easy as agreeing, and takes effect at once.
    withdrawn = await step(w.word(Command.WITHDRAW))
    assert study.keyword in withdrawn
    assert study.contact.email in withdrawn
    assert await consent() == {
        p: ("withdrawn" if yes else "declined") for p, yes in ANSWERS.items()
    }

    history = await research.history(reference)
    assert [(e["purpose"], e["from"], e["to"]) for e in history][:2] == [
        ("records-research", "none", "pending"),
        ("social-care-linkage", "none", "declined"),
    ]
    assert {e["language"] for e in history} == {language}
    assert {e["content_digest"] for e in history} == {text.digest}
    assert {e["channel"] for e in history} == {f"sms:{gateway}"}
    assert history[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(history))
    report = await LedgerAudit(client.app[keys.DATABASE], client.app[keys.STUDIES]).verify()
    assert report.findings == []
    assert report.events == len(history)
