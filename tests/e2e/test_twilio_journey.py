"""The whole consent journey through Twilio's protocol, in every shipped language, on both databases."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from consentbot import keys
from consentbot.content.model import Study
from consentbot.conversation.vocabulary import Command
from consentbot.services.audit import LedgerAudit
from consentbot.services.clock import ManualClock
from tests.conftest import AppClient
from tests.support.journey import PURPOSES, STUDY, ResearchSystem, link_in, translator, words
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Loops = Callable[[], Awaitable[None]]


def study_of(client: AppClient) -> Study:
    study = client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    return study


@pytest.mark.parametrize("language", ["en", "cy", "pl", "ur"])
async def test_invitation_to_confirm_to_withdraw(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock, run_loops: Loops, language: str
) -> None:
    study = study_of(client)
    text = study.text(language)
    w = words(language)
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900101")

    invited = await research.invite("07400 900101", "P-0001", language)
    assert invited == {
        "study": STUDY, "participant": "P-0001", "language": language,
        "created": True, "messages_stopped": False, "link_sent": True,
    }
    await run_loops()
    invitation = phone.text()
    link = link_in(invitation)
    assert link.startswith("https://consent.example.org/i/")
    assert len(link.rsplit("/", 1)[1]) >= 32
    assert text.title in invitation
    assert text.summary in invitation
    assert w.word(Command.MORE) in invitation
    assert link in invitation
    assert await research.consent("P-0001") == dict.fromkeys(PURPOSES, "none")

    # Layers: topics, a topic's summary, then its detail.
    await phone.send(w.word(Command.MORE))
    await run_loops()
    topics = phone.text()
    assert all(topic.title in topics for topic in text.topics)
    await phone.send("2")
    await run_loops()
    assert text.topics[1].summary in phone.text()
    await phone.send(w.word(Command.MORE).lower() + "!")
    await run_loops()
    assert text.topics[1].detail.split("\n")[0] in phone.text()

    # One question per purpose, required first.
    await phone.send(w.word(Command.YES))
    await run_loops()
    first = phone.text()
    assert text.purposes["records-research"].question in first
    answers = {"records-research": True, "social-care-linkage": False, "commercial-partner": True,
               "recontact": False, "updates": True}
    for purpose in PURPOSES:
        await phone.send(w.word(Command.YES if answers[purpose] else Command.NO))
        await run_loops()
        replies = phone.text()
        nxt = PURPOSES.index(purpose) + 1
        if nxt < len(PURPOSES):
            assert text.purposes[PURPOSES[nxt]].question in replies
    expected = {p: ("pending" if yes else "declined") for p, yes in answers.items()}
    assert await research.consent("P-0001") == expected

    # CONFIRM during cooling-off changes nothing and says from when it will work.
    clock.advance(timedelta(hours=2))
    await phone.send(w.word(Command.CONFIRM))
    await run_loops()
    too_early = phone.text()
    opens = study.cooling_off.opens_at(clock.now - timedelta(hours=2))
    assert translator(language).date_and_time(opens, study.timezone) in too_early
    assert await research.consent("P-0001") == expected

    # After cooling-off the scheduler reminds; CONFIRM now makes the yeses count.
    clock.advance(study.cooling_off.period)
    await run_loops()
    reminder = phone.text()
    assert w.word(Command.CONFIRM) in reminder
    await phone.send(w.word(Command.CONFIRM))
    await run_loops()
    confirmed = phone.text()
    assert text.purposes["records-research"].title in confirmed
    active = {p: ("active" if yes else "declined") for p, yes in answers.items()}
    assert await research.consent("P-0001") == active

    await phone.send(w.word(Command.CHOICES))
    await run_loops()
    choices = phone.text()
    assert all(text.purposes[p].title in choices for p in PURPOSES)

    # Withdrawing is as easy as agreeing, and takes effect at once.
    await phone.send(w.word(Command.WITHDRAW))
    await run_loops()
    withdrawn = phone.text()
    assert study.keyword in withdrawn
    assert study.contact.email in withdrawn
    final = {p: ("withdrawn" if yes else "declined") for p, yes in answers.items()}
    assert await research.consent("P-0001") == final

    history = await research.history("P-0001")
    assert [(e["purpose"], e["from"], e["to"]) for e in history][:2] == [
        ("records-research", "none", "pending"),
        ("social-care-linkage", "none", "declined"),
    ]
    assert {e["language"] for e in history} == {language}
    assert {e["content_digest"] for e in history} == {text.digest}
    assert all(e["channel"] == "sms:twilio" for e in history)
    assert history[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(history))
    report = await LedgerAudit(client.app[keys.DATABASE], client.app[keys.STUDIES]).verify()
    assert report.findings == []
    assert report.events == len(history)


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
    study = study_of(client)
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900104")
    await research.invite(phone.number, "P-0004")
    for answer in ["YES", "YES", "YES", "NO", "NO", "NO"]:
        await phone.send(answer)
    clock.advance(study.cooling_off.period)
    await phone.send("CONFIRM")
    assert await research.consent("P-0004") == {
        "records-research": "active", "social-care-linkage": "active",
        "commercial-partner": "declined", "recontact": "declined", "updates": "declined",
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
    study = study_of(client)
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
