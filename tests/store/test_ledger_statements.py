"""The ledger never reads a participant's consent rows to change them: one upsert per purpose
changed; and consent read as plain values still sees what the transaction changed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from consentbot import keys
from consentbot.domain.provenance import Auth, Channel
from consentbot.domain.status import ConsentStatus
from consentbot.domain.transitions import ConsentAction
from consentbot.domain.withdrawal import WithdrawalLevel
from consentbot.services.clock import ManualClock
from consentbot.store.ledger import LedgerRepository, NewEvent
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import ConsentState
from tests.conftest import AppClient
from tests.support.journey import STUDY, ResearchSystem
from tests.support.query_plans import statements_sent
from tests.support.twilio_fake import FakeTwilio, TwilioPhone


async def test_a_confirm_of_three_purposes_reads_their_rows_once_and_upserts_each(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900311")
    await research.invite(phone.number, "S-1")
    for answer in ["YES", "YES", "YES", "NO", "NO", "YES"]:
        await phone.send(answer)
    clock.advance(timedelta(days=1))

    with statements_sent(client.app[keys.DATABASE]) as sent:
        await phone.send("CONFIRM")
    reads: list[str] = []
    writes: list[str] = []
    participant_writes: list[str] = []
    for statement, _parameters in sent:
        verb = statement.lstrip().upper()
        if verb.startswith("SELECT") and "FROM consent_state" in statement:
            reads.append(statement)
        elif "consent_state" in statement and verb.startswith(("INSERT", "UPDATE")):
            writes.append(statement)
        elif verb.startswith("UPDATE PARTICIPANT"):
            participant_writes.append(statement)

    # One read, when the turn loads the person (plain values); the ledger reads none.
    assert len(reads) == 1, reads
    # One statement per purpose confirmed, an insert that replaces the row it finds.
    assert len(writes) == 3, writes
    assert all("ON CONFLICT" in statement.upper() for statement in writes), writes
    # CONFIRM also cancels the reminder timers, a statement that flushes the session: the
    # participant's new ledger head and conversation are still written together, once.
    assert len(participant_writes) == 1, participant_writes
    async with client.app[keys.DATABASE].read() as session:
        statuses = (await session.exec(select(ConsentState.status))).all()
    assert sorted(statuses) == sorted(
        [ConsentStatus.ACTIVE.value] * 3 + [ConsentStatus.DECLINED.value] * 2
    )


async def test_consent_read_later_in_a_transaction_sees_what_the_ledger_changed_in_it(
    client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    research = await ResearchSystem.register(client)
    phone = TwilioPhone(client, fake_twilio, "+447400900312")
    await research.invite(phone.number, "S-2")
    await phone.send("YES")
    await phone.send("YES")  # the first purpose: pending
    async with client.app[keys.DATABASE].transaction() as session:
        participants = ParticipantRepository(session)
        participant = await participants.by_reference(STUDY, "S-2")
        assert participant is not None
        assert participant.id is not None
        before = await participants.consent_of([participant.id])
        [(purpose, consent)] = before[participant.id].items()
        assert consent.status is ConsentStatus.PENDING
        now = clock()
        await LedgerRepository(session).append(
            participant,
            NewEvent(
                purpose_id=purpose,
                action=ConsentAction.WITHDRAW.value,
                from_status=ConsentStatus.PENDING.value,
                to_status=ConsentStatus.WITHDRAWN.value,
                withdrawal_level=WithdrawalLevel.NO_FURTHER_USE.value,
                content_version=participant.content_version,
                content_digest="0" * 64,
                language="en",
                channel=Channel.SCHEDULER,
                actor="system",
                auth=Auth.SYSTEM,
                assisted_by=None,
                occurred_at=now,
                pending_since=None,
            ),
        )
        after = await participants.consent_of([participant.id])
        assert after[participant.id][purpose].status is ConsentStatus.WITHDRAWN
        await session.rollback()
