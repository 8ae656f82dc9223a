"""Work shared through the database is claimed once, however many processes look for it.

Two sessions (two pools) stand for two worker processes: what one has claimed and not yet
committed, the other passes by (FOR UPDATE SKIP LOCKED) instead of taking or waiting for it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from consentbot import keys
from consentbot.app import create_app
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.stopping import StopSource
from consentbot.services import timers as timer_module
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.contacts import ContactRepository
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.inbound import InboundRepository
from consentbot.store.outbox import ClaimedMessage, OutboxRepository
from consentbot.store.tables import InboundMessage, OutboxMessage, Participant
from tests.conftest import SECRET, START, AppClient, settle
from tests.faults.records import Records
from tests.scaleout.conftest import POSTGRES_ONLY
from tests.support.journey import STUDY, ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

Start = Callable[..., Awaitable[AppClient]]

LONG = " ".join(["Thank you for your answer, it is saved."] * 10)
"""About 400 characters: three parts of one segment each."""


@pytest.fixture
async def databases(settings: Settings) -> AsyncIterator[tuple[Database, Database]]:
    """Two pools on one database, as two worker processes have."""
    first, second = Database(settings.effective_database_url), Database(settings.effective_database_url)
    yield first, second
    await first.dispose()
    await second.dispose()


async def queue_replies(db: Database, numbers: int) -> dict[int, list[int]]:
    """A three-part reply to each of ``numbers`` people; contact id -> its parts' ids in order."""
    queued: dict[int, list[int]] = {}
    async with db.transaction() as session:
        contacts = ContactRepository(session, PhoneVault(SECRET))
        outbox = OutboxRepository(session)
        for number in range(numbers):
            contact = await contacts.find_or_create(f"+447400900{number:03d}", START)
            assert contact.id is not None
            reply = outbox.plan(
                contact_id=contact.id,
                participant_id=None,
                kind=OutboxKind.REPLY,
                body=LONG,
                always=False,
                send_after=START,
                now=START,
                max_segments=1,
            )
            queued[contact.id] = await outbox.add(reply)
    assert {len(parts) for parts in queued.values()} == {3}
    return queued


def by_contact(claimed: list[ClaimedMessage]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for item in claimed:
        found.setdefault(item.message.contact_id, []).append(item.message.id or 0)
    return found


async def test_a_batch_that_takes_part_of_a_reply_takes_all_its_parts(
    databases: tuple[Database, Database],
) -> None:
    """The limit cuts the second reply after its first part; the batch takes its other
    parts too, so one round sends the whole reply in order."""
    db, _ = databases
    queued = await queue_replies(db, 3)
    async with db.transaction() as session:
        claim = await OutboxRepository(session).claim_due(START, 4)
    first, second, third = queued
    assert by_contact(claim.messages) == {first: queued[first], second: queued[second]}
    async with db.transaction() as session:
        claim = await OutboxRepository(session).claim_due(START, 4)
    assert by_contact(claim.messages) == {third: queued[third]}


async def test_a_claim_settles_what_it_must_not_send_and_a_release_undoes_it(
    databases: tuple[Database, Database],
) -> None:
    """A stopped number's messages are suppressed and an erased one's erased, secrets and
    all, in the claim's own statements; a message held back (quiet hours) is released as
    if it had never been claimed."""
    db, _ = databases
    sending, stopped, erased = queue_replies_ids = list(await queue_replies(db, 3))
    async with db.transaction() as session:
        contacts = ContactRepository(session, PhoneVault(SECRET))
        stopped_contact = await contacts.get(stopped, lock=True)
        erased_contact = await contacts.get(erased, lock=True)
        assert stopped_contact is not None
        assert erased_contact is not None
        contacts.stop(stopped_contact, StopSource.SMS, START)
        erased_contact.erased_at = START
        session.add(erased_contact)
        outbox = OutboxRepository(session, PhoneVault(SECRET))
        code = outbox.plan(
            contact_id=stopped,
            participant_id=None,
            kind=OutboxKind.VERIFICATION,
            body="Your code is 123456",
            always=False,
            send_after=START,
            now=START,
            max_segments=1,
            secret="123456",
        )
        await outbox.add_all(code)
    async with db.transaction() as session:
        claim = await OutboxRepository(session).claim_due(START, 50)
    assert set(by_contact(claim.messages)) == {sending}
    assert {item.message.attempts for item in claim.messages} == {1}
    async with db.read() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    by_status = {
        contact: {(row.status, row.attempts, row.claimed_at, row.secret_encrypted) for row in rows if row.contact_id == contact}
        for contact in queue_replies_ids
    }
    assert by_status == {
        sending: {(OutboxStatus.SENDING, 1, START, None)},
        stopped: {(OutboxStatus.SUPPRESSED, 0, None, None)},
        erased: {(OutboxStatus.ERASED, 0, None, None)},
    }

    held = claim.messages[0].message.id
    morning = START + timedelta(hours=9)
    async with db.transaction() as session:
        await OutboxRepository(session).release([(held, morning)])
    async with db.read() as session:
        row = await session.get(OutboxMessage, held)
    assert row is not None
    assert (row.status, row.attempts, row.claimed_at, row.send_after) == (
        OutboxStatus.PENDING,
        0,
        None,
        morning,
    )


@POSTGRES_ONLY
async def test_two_processes_claiming_at_once_never_take_the_same_message_or_number(
    databases: tuple[Database, Database],
) -> None:
    """While one claim is open (not committed), another takes the rest: no message twice,
    no number split between them, every reply whole."""
    one, other = databases
    queued = await queue_replies(one, 8)
    async with one.transaction() as first_session:
        first = await OutboxRepository(first_session).claim_due(START, 4)
        async with other.transaction() as second_session:
            second = await OutboxRepository(second_session).claim_due(START, 50)
    taken_first, taken_second = by_contact(first.messages), by_contact(second.messages)
    assert len(taken_first) == 2
    assert not set(taken_first) & set(taken_second)
    assert taken_first | taken_second == queued
    async with one.read() as session:
        statuses = Counter((await session.exec(select(OutboxMessage.status))).all())
    assert statuses == {OutboxStatus.SENDING: 24}


@POSTGRES_ONLY
async def test_a_claim_passes_by_a_number_whose_turn_is_in_progress(
    databases: tuple[Database, Database],
) -> None:
    """A turn holds its contact row until it commits; the outbox does not wait for it
    (nor send beside it), and takes that number's messages in a later round."""
    one, other = databases
    queued = await queue_replies(one, 3)
    busy = next(iter(queued))
    async with one.transaction() as turn:
        await ContactRepository(turn, PhoneVault(SECRET)).get(busy, lock=True)
        async with other.transaction() as session:
            claim = await OutboxRepository(session).claim_due(START, 50)
        assert set(by_contact(claim.messages)) == set(queued) - {busy}
    async with other.transaction() as session:
        claim = await OutboxRepository(session).claim_due(START, 50)
    assert by_contact(claim.messages) == {busy: queued[busy]}


@POSTGRES_ONLY
async def test_two_schedulers_fire_each_timer_once(
    settings: Settings,
    clock: ManualClock,
    twilio_server: TestServer,
    aiohttp_client: Start,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two services (two pools, two schedulers) run the same due invitations at once: each
    person is invited once, and every timer ran in one of them."""
    monkeypatch.setattr(timer_module, "GROUP", 5)
    configured = settings.with_(twilio_api_base=str(twilio_server.make_url("")).rstrip("/"))
    first = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    second = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    research = await ResearchSystem.register(first)
    batch = [{"phone": f"+447400900{n:03d}", "reference": f"T-{n}"} for n in range(40)]
    response = await first.post(
        f"/api/v1/studies/{STUDY}/invitations/batch", json={"invitations": batch}, headers=research.headers
    )
    assert response.status == 202

    ran = await asyncio.gather(
        first.app[keys.TIMERS].run_due(limit=100), second.app[keys.TIMERS].run_due(limit=100)
    )
    # What one passed by because the other held its contacts is left for the next round.
    ran_together = sum(ran) + await first.app[keys.TIMERS].run_due(limit=100)
    async with first.app[keys.DATABASE].read() as session:
        invited = Counter(
            (
                await session.exec(
                    select(Participant.reference)
                    .join(OutboxMessage, col(OutboxMessage.participant_id) == col(Participant.id))
                    .where(OutboxMessage.kind == OutboxKind.INVITATION)
                )
            ).all()
        )
    assert ran_together == 40
    assert set(invited) == {f"T-{n}" for n in range(40)}
    assert set(invited.values()) == {invited["T-0"]}, "every invitation has as many parts"


async def test_two_workers_write_one_checkpoint_per_period(
    settings: Settings, clock: ManualClock, twilio_server: TestServer, aiohttp_client: Start
) -> None:
    """Every worker runs the checkpoint schedule; the one holding the folder's lock writes,
    the other finds the new file and waits for the next period."""
    configured = settings.with_(
        twilio_api_base=str(twilio_server.make_url("")).rstrip("/"),
        audit_checkpoint_dir=settings.data_dir / "checkpoints",
    )
    first = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    second = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    schedules = [first.app[keys.CHECKPOINTS], second.app[keys.CHECKPOINTS]]
    written = await asyncio.gather(*(schedule.run_due() for schedule in schedules))
    assert written[0] is not None
    assert written[1] is None
    assert await schedules[1].run_due() is None, "it finds the checkpoint the first one wrote"
    folder = configured.audit_checkpoint_dir
    assert folder is not None
    assert [path.name for path in folder.iterdir()] == [written[0].name]


@POSTGRES_ONLY
async def test_a_webhook_recorded_by_two_processes_at_once_counts_once(
    databases: tuple[Database, Database],
) -> None:
    """Even without the contact lock between them (two rows for one number while keys
    rotate), the second copy waits for the first and is then a repeat: never an error."""
    one, other = databases
    async with one.transaction() as first:
        assert await InboundRepository(first).first_time("twilio", "SM" + "d" * 32, None, START)
        async with other.transaction() as second:
            repeat = asyncio.create_task(
                InboundRepository(second).first_time("twilio", "SM" + "d" * 32, None, START)
            )
            await asyncio.sleep(0.2)
            assert not repeat.done(), "the second copy waits for the first transaction"
            await first.commit()
            assert await repeat is False
    async with one.read() as session:
        assert len((await session.exec(select(InboundMessage.id))).all()) == 1


@POSTGRES_ONLY
async def test_one_persons_messages_reaching_two_processes_are_handled_one_after_the_other(
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    twilio_server: TestServer,
    aiohttp_client: Start,
) -> None:
    """The turn locks the sender's contact row in the database, so two messages from one
    phone that reach two workers at once never interleave: the outcome is one order or the
    other, each message handled once, each answered once."""
    configured = settings.with_(twilio_api_base=str(twilio_server.make_url("")).rstrip("/"))
    first = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    second = await aiohttp_client(create_app(configured, clock=clock, run_background=False))
    on_first = TwilioPhone(first, fake_twilio, "+447400900001")
    on_second = TwilioPhone(second, fake_twilio, "+447400900001")
    await on_first.send("JOINTS")
    await on_first.send("YES")
    await settle(first.app)
    assert "Question 1 of 5" in on_first.text()

    await asyncio.gather(on_first.send("YES"), on_second.send("NO"))
    await settle(first.app)
    records = Records.of(first.app)
    yes_first = [("records-research", "none", "pending"), ("social-care-linkage", "none", "declined")]
    no_first = [("records-research", "none", "declined")]
    assert await records.transitions(on_first.number) in (yes_first, no_first)
    assert len(on_first.new_messages()) == 2
    assert len(await records.inbound_message_ids()) == 4
    assert await records.ledger_findings() == []
