"""``consentbot participant erase``, run as a real process, seen through the API and the database."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from consentbot import keys
from consentbot.app import create_app
from consentbot.conversation.state import ConversationState
from consentbot.domain.outbox import OutboxStatus
from consentbot.domain.provenance import Auth
from consentbot.domain.timers import TimerStatus
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.crypto import PhoneVault
from consentbot.store.ledger import LedgerClosed, LedgerRepository, NewEvent
from consentbot.store.participants import takes_turns
from consentbot.store.tables import (
    Contact,
    InboundMessage,
    InvitationLink,
    OutboxMessage,
    Participant,
    PhoneVerification,
    Timer,
    WebMessage,
    WebSession,
)
from tests.conftest import SECRET, AppClient, settle
from tests.support.cli import consentbot
from tests.support.journey import PURPOSES, ROOT, STUDY, ResearchSystem, link_in
from tests.support.twilio_fake import FakeTwilio, TwilioPhone
from tests.web.conftest import Browser

NUMBER = "+447400123461"
SHARED = "+447400123462"
KNEE = "knee-study"
REMOVAL = "no-further-use-and-removal"


def erase(settings: Settings, reference: str, study: str = STUDY) -> Any:
    return consentbot(settings, "participant", "erase", "--study", study, "--reference", reference)


async def rows(client: AppClient, table: Any, *where: Any) -> list[Any]:
    async with client.app[keys.DATABASE].read() as session:
        statement = select(table)
        for condition in where:
            statement = statement.where(condition)
        return list((await session.exec(statement.order_by(col(table.id)))).all())


async def participant(client: AppClient, reference: str) -> Participant:
    (found,) = await rows(client, Participant, Participant.reference == reference)
    assert isinstance(found, Participant)
    return found


def assert_all_erased(consent: dict[str, Any]) -> None:
    assert set(consent["purposes"]) == set(PURPOSES)
    for item in consent["purposes"].values():
        assert (item["status"], item["withdrawal_level"]) == ("withdrawn", REMOVAL)


async def test_erasure_withdraws_everything_and_removes_text_and_number(
    web_client: AppClient,
    settings: Settings,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> None:
    client = web_client
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, NUMBER)
    await research.invite(NUMBER, "E-1")
    await settle(client.app)
    invitation_link = link_in(fake_twilio.inbox[NUMBER][-1])
    for answer in ["YES", "YES", "YES", "NO", "NO", "YES"]:
        await phone.send(answer)
    clock.advance(timedelta(days=1, minutes=1))
    await settle(client.app)
    await phone.send("CONFIRM")
    await phone.send("LATER")
    link = "/i/" + invitation_link.rsplit("/", 1)[1]
    await client.get(link, allow_redirects=False)
    browser = Browser(client)
    await browser.open()
    assert "Research on your records: yes" in await browser.say("CHOICES")
    await settle(client.app)
    await phone.send("HELP")  # its reply is still waiting when the erasure comes
    # In another browser someone asks for a code to the number: a code row, a text waiting.
    stranger = Browser(await aiohttp_client(client.server))
    await stranger.open()
    await stranger.say("YES")
    await stranger.post("verify", phone=NUMBER)
    history_before = await research.history("E-1")
    assert [e["to"] for e in history_before[-3:]] == ["active"] * 3
    sent_before = len(fake_twilio.inbox[NUMBER])
    (contact,) = await rows(client, Contact)

    result = erase(settings, "E-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "E-1 erased from joint-health-records: 5 purposes withdrawn (no-further-use-and-removal), "
        "conversation text deleted, phone number removed"
    )

    # Consent: every purpose withdrawn with removal; the erase events close the intact chain.
    assert_all_erased(await research.consent_json("E-1"))
    history = await research.history("E-1")
    assert history[: len(history_before)] == history_before
    erased = history[len(history_before) :]
    assert [(e["purpose"], e["from"]) for e in erased] == [
        ("records-research", "active"),
        ("social-care-linkage", "active"),
        ("commercial-partner", "declined"),
        ("recontact", "declined"),
        ("updates", "active"),
    ]
    for event in erased:
        assert (event["action"], event["to"], event["withdrawal_level"]) == ("erase", "withdrawn", REMOVAL)
        assert (event["channel"], event["actor"], event["auth"]) == ("cli", "staff", Auth.SYSTEM.value)
    audit = consentbot(settings, "audit", "verify")
    assert audit.returncode == 0, audit.stderr
    assert f"ledger intact: {len(history)} events checked" in audit.stdout

    # The number: no ciphertext, a hash that can never match, nothing left that points to it.
    (wiped,) = await rows(client, Contact)
    assert (wiped.phone_encrypted, wiped.phone_hash) == ("", f"erased:{contact.id}")
    assert wiped.erased_at is not None
    assert wiped.prompted_participant_id is None
    real_hash = PhoneVault(SECRET).lookup_hash(NUMBER)
    assert real_hash == contact.phone_hash
    assert await rows(client, PhoneVerification, PhoneVerification.phone_hash == real_hash) == []
    assert await rows(client, InboundMessage, InboundMessage.contact_id != None) == []  # noqa: E711
    assert len(await rows(client, InboundMessage)) == 9  # the ids stay: retries are still ignored

    # The conversation: reset, transcripts gone, sessions ended, link revoked, timers cancelled.
    gone = await participant(client, "E-1")
    assert gone.erased_at is not None
    assert not takes_turns(gone)
    assert gone.conversation == ConversationState().to_json()
    linked = await rows(client, WebSession, WebSession.participant_id == gone.id)
    assert [(s.conversation, s.waiting_text) for s in linked] == [("{}", None)]
    assert await rows(client, WebMessage, WebMessage.web_session_id == linked[0].id) == []
    (invitation_link,) = await rows(client, InvitationLink)
    assert invitation_link.revoked_at is not None
    timers = await rows(client, Timer, Timer.participant_id == gone.id)
    assert {t.kind.value for t in timers if t.status is TimerStatus.CANCELLED} >= {"later", "expiry"}
    assert all(t.status is not TimerStatus.PENDING for t in timers)
    page = await browser.open()
    assert "Research on your records" not in page  # the old cookie opens a new, empty session
    assert (await client.get(link)).status == 404

    # The texts: all blank, the two still waiting will never go.
    messages = await rows(client, OutboxMessage)
    assert all(m.body == "" and m.secret_encrypted is None for m in messages)
    assert sorted(m.kind.value for m in messages if m.status is OutboxStatus.ERASED) == ["reply", "verification"]
    await settle(client.app)
    assert len(fake_twilio.inbox[NUMBER]) == sent_before

    # Erasing again says so and changes nothing.
    again = erase(settings, "E-1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("E-1 in joint-health-records was already erased at ")
    assert again.stdout.strip().endswith(": nothing changed")
    assert await research.history("E-1") == history
    assert (await participant(client, "E-1")).model_dump() == gone.model_dump()

    # The number is unknown now: texting the keyword again is a new person joining.
    await phone.send("JOINTS")
    joined = await rows(client, Participant, Participant.reference != "E-1")
    assert [(p.joined_by, p.contact_id == contact.id) for p in joined] == [("keyword", False)]
    assert await research.history("E-1") == history


@pytest.fixture
def two_studies(tmp_path: Path) -> Path:
    """The sample study and a copy of it, ``knee-study``, with its own keyword KNEES."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    knee = content / "studies" / KNEE
    shutil.copytree(content / "studies" / STUDY, knee)
    data = yaml.safe_load((knee / "study.yaml").read_text(encoding="utf-8"))
    data.update(id=KNEE, keyword="KNEES")
    (knee / "study.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return content


async def test_a_number_another_study_uses_stays_until_its_last_participant_is_erased(
    settings: Settings,
    two_studies: Path,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Callable[..., Awaitable[AppClient]],
) -> None:
    settings = settings.with_(content_dir=two_studies)
    api_base = str(twilio_server.make_url("")).rstrip("/")
    client = await aiohttp_client(
        create_app(settings.with_(twilio_api_base=api_base), clock=clock, run_background=False)
    )
    joints = await ResearchSystem.register(client)
    knees = await ResearchSystem.register(client, KNEE)
    phone = TwilioPhone(client, fake_twilio, SHARED)
    await joints.invite(SHARED, "E-2")
    await phone.send("YES")
    await phone.send("YES")
    await knees.invite(SHARED, "K-2")  # from now on a bare YES is about the knee study
    await phone.send("YES")
    await phone.send("YES")
    await settle(client.app)
    assert (await joints.consent("E-2"))["records-research"] == "pending"
    knee_before = await knees.consent_json("K-2")
    assert knee_before["purposes"]["records-research"]["status"] == "pending"
    e2, k2 = await participant(client, "E-2"), await participant(client, "K-2")
    assert e2.contact_id == k2.contact_id

    first = erase(settings, "E-2")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("phone number kept: another study's participant still uses it")
    assert_all_erased(await joints.consent_json("E-2"))
    assert await knees.consent_json("K-2") == knee_before
    (contact,) = await rows(client, Contact)
    assert contact.erased_at is None
    assert contact.phone_hash == PhoneVault(SECRET).lookup_hash(SHARED)
    assert PhoneVault(SECRET).decrypt(contact.phone_encrypted, contact.phone_hash) == SHARED
    assert contact.prompted_participant_id == k2.id
    erased_texts = {m.body for m in await rows(client, OutboxMessage, OutboxMessage.participant_id == e2.id)}
    assert erased_texts == {""}
    assert all(m.body for m in await rows(client, OutboxMessage, OutboxMessage.participant_id == k2.id))
    # The knee study still reaches the number and still takes its turns.
    phone.new_messages()
    await phone.send("CHOICES")
    await settle(client.app)
    assert "Research on your records: yes, but it does not count until you confirm" in phone.text()

    second = erase(settings, "K-2", KNEE)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().endswith("phone number removed")
    (contact,) = await rows(client, Contact)
    assert (contact.phone_encrypted, contact.phone_hash) == ("", f"erased:{contact.id}")
    assert {m.body for m in await rows(client, OutboxMessage)} == {""}
    assert_all_erased(await knees.consent_json("K-2"))
    audit = consentbot(settings, "audit", "verify")
    assert audit.returncode == 0, audit.stderr


async def test_an_unknown_study_or_reference_is_a_clear_error_and_changes_nothing(
    client: AppClient, settings: Settings
) -> None:
    research = await ResearchSystem.register(client)
    await research.invite(NUMBER, "E-3")
    unknown_study = erase(settings, "E-3", "no-such-study")
    assert unknown_study.returncode == 1
    assert unknown_study.stderr.strip() == "consentbot: --study: there is no study 'no-such-study'"
    unknown = erase(settings, "E-404")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "consentbot: --reference: no participant 'E-404' in study 'joint-health-records'"
    )
    assert (await participant(client, "E-3")).erased_at is None
    assert (await rows(client, Contact))[0].erased_at is None
    assert await research.history("E-3") == []


async def test_an_erased_participants_ledger_refuses_new_events(
    client: AppClient, settings: Settings, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    await research.invite(NUMBER, "E-4")
    assert erase(settings, "E-4").returncode == 0
    event = NewEvent(
        purpose_id="records-research", action="answer-yes", from_status="withdrawn",
        to_status="pending", withdrawal_level=None, content_version=1, content_digest="0" * 64,
        language="en", channel="sms:twilio", actor="participant", auth=Auth.SMS,
        assisted_by=None, occurred_at=clock(), pending_since=clock(),
    )
    async with client.app[keys.DATABASE].transaction() as session:
        (erased,) = (await session.exec(select(Participant))).all()
        with pytest.raises(LedgerClosed, match="was erased: their ledger is closed"):
            await LedgerRepository(session).append(erased, event)
    assert len(await research.history("E-4")) == len(PURPOSES)


async def test_a_message_that_returns_to_the_queue_after_an_erasure_is_never_sent(
    client: AppClient, settings: Settings, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    """A text in flight during the erasure can be put back (a retry): it must not go, nor break the outbox."""
    research = await ResearchSystem.register(client)
    await research.invite(NUMBER, "E-5")
    await research.invite("+447400123463", "E-6")
    assert erase(settings, "E-5").returncode == 0
    sent_before = len(fake_twilio.inbox[NUMBER])
    # As the dispatcher leaves a retried message: pending again, with the (now blank) body.
    e5 = await participant(client, "E-5")
    async with client.app[keys.DATABASE].transaction() as session:
        mine = select(OutboxMessage).where(OutboxMessage.participant_id == e5.id)
        (late,) = (await session.exec(mine)).all()
        assert late.status is OutboxStatus.ERASED  # it was waiting when the erasure came
        late.status = OutboxStatus.PENDING
        session.add(late)
    await settle(client.app)
    (settled,) = await rows(client, OutboxMessage, OutboxMessage.id == late.id)
    assert settled.status is OutboxStatus.ERASED
    assert len(fake_twilio.inbox[NUMBER]) == sent_before
    assert len(fake_twilio.inbox["+447400123463"]) == 1  # everyone else's messages still go
