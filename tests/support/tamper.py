"""A small ledger, and an insider with write access to the database who covers their tracks.

Every change here recomputes the hashes from the changed event on, the participant's
head and the consent projection, as someone who knows the schema would: only the
consent rules or a checkpoint taken before can then tell.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot import keys
from consentbot.domain import permitted
from consentbot.domain.ledger_hash import GENESIS, event_hash
from consentbot.services.audit import LedgerAudit
from consentbot.services.checkpoints import write_checkpoint
from consentbot.services.clock import ManualClock
from consentbot.settings import Settings
from consentbot.store.database import Database
from consentbot.store.ledger import hashed_fields
from consentbot.store.signing_key import signing_key
from consentbot.store.tables import (
    ConsentEvent,
    ConsentState,
    InvitationLink,
    OutboxMessage,
    Participant,
    Timer,
    WebSession,
)
from tests.conftest import AppClient
from tests.support.journey import ResearchSystem
from tests.support.twilio_fake import FakeTwilio, TwilioPhone

PHONES = ("+447400123451", "+447400123452")


async def two_participants(client: AppClient, fake_twilio: FakeTwilio, clock: ManualClock) -> list[TwilioPhone]:
    """A-1 answers (5 events, 3 of them yeses); A-2 answers the same, then confirms a day later (3 more)."""
    research = await ResearchSystem.register(client)
    phones = []
    for n, number in enumerate(PHONES, start=1):
        phone = TwilioPhone(client, fake_twilio, number)
        await research.invite(phone.number, f"A-{n}")
        for answer in ["YES", "YES", "YES", "NO", "NO", "YES"]:
            await phone.send(answer)
        phones.append(phone)
    clock.advance(timedelta(days=1))
    await phones[1].send("CONFIRM")
    return phones


def database(client: AppClient) -> Database:
    return client.app[keys.DATABASE]


async def execute(client: AppClient, sql: str) -> None:
    async with database(client).transaction() as session:
        await session.exec(text(sql))  # type: ignore[call-overload]


async def rewrite(client: AppClient, participant_id: int, edit: Callable[[list[ConsentEvent]], object]) -> None:
    """Let ``edit`` change, remove or append events, then re-chain them and fix head and projection."""
    async with database(client).transaction() as session:
        events = list(
            (
                await session.exec(
                    select(ConsentEvent)
                    .where(ConsentEvent.participant_id == participant_id)
                    .order_by(col(ConsentEvent.seq))
                )
            ).all()
        )
        before = list(events)
        edit(events)
        for gone in (event for event in before if event not in events):
            await session.delete(gone)
        previous = GENESIS
        for event in events:
            event.prev_hash = previous
            event.hash = previous = event_hash(previous, hashed_fields(event))
            session.add(event)
        participant = await session.get(Participant, participant_id)
        assert participant is not None
        participant.ledger_seq, participant.ledger_head = len(events), previous
        participant.permitted_purposes = permitted.from_statuses({e.purpose_id: e.to_status for e in events})
        session.add(participant)
        await _project(session, participant_id, events)


async def drop_last_event(client: AppClient, participant_id: int) -> None:
    """Delete the participant's last event and make everything else agree."""
    await rewrite(client, participant_id, lambda events: events.pop())


async def drop_participant(client: AppClient, participant_id: int) -> None:
    """Delete a participant with everything that points at it."""
    async with database(client).transaction() as session:
        for table in (Timer, OutboxMessage, InvitationLink, WebSession, ConsentState, ConsentEvent):
            await session.exec(delete(table).where(col(table.participant_id) == participant_id))
        await session.exec(delete(Participant).where(col(Participant.id) == participant_id))


async def _project(session: AsyncSession, participant_id: int, events: list[ConsentEvent]) -> None:
    last = {event.purpose_id: event for event in events}
    for state in (await session.exec(select(ConsentState).where(ConsentState.participant_id == participant_id))).all():
        if state.purpose_id not in last:
            await session.delete(state)
    for purpose, event in last.items():
        found = await session.get(ConsentState, (participant_id, purpose))
        state = found or ConsentState(participant_id=participant_id, purpose_id=purpose, status="",
                                      since=event.occurred_at, content_version=0, language="")
        state.status = event.to_status
        state.since = event.occurred_at
        state.pending_since = event.occurred_at if event.to_status == "pending" else None
        state.withdrawal_level = event.withdrawal_level
        state.content_version = event.content_version
        state.language = event.language
        session.add(state)


async def take_checkpoint(client: AppClient, settings: Settings, clock: ManualClock) -> Path:
    """A checkpoint signed with the data folder's key, as `audit checkpoint --out` writes it."""
    key = signing_key(settings.audit_signing_key, settings.data_dir)
    checkpoint = await LedgerAudit(database(client), client.app[keys.STUDIES]).checkpoint(key, clock())
    path = settings.data_dir / "checkpoint.json"
    write_checkpoint(path, checkpoint)
    return path


async def verify_in_process(client: AppClient) -> list[str]:
    """Every finding of a verification without a checkpoint, as the CLI prints them."""
    report = await LedgerAudit(database(client), client.app[keys.STUDIES]).verify()
    return [str(finding) for finding in report.findings]
