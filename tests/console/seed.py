"""A seeded study for the console tests: twelve people invited through the service, then
consent states, ledger events and outbox problems written straight into the tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from sqlmodel import col, select

from consentbot import keys
from consentbot.domain.outbox import OutboxStatus
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.status import ConsentStatus
from consentbot.domain.transitions import ConsentAction
from consentbot.store.tables import ConsentEvent, ConsentState, OutboxMessage, Participant
from tests.support.journey import STUDY

PURPOSE = "records-research"
PEOPLE = 12
PHONES = tuple(f"07400900{200 + n:03d}" for n in range(PEOPLE))
REFERENCES = tuple(f"REF-{n:02d}" for n in range(PEOPLE))
CONFIRMED = 8
"""People 0-7: said yes to PURPOSE, then confirmed. People 8-9 said no; 10-11 never answered."""
READ = 7
"""People 0-6 opened a topic."""


async def seed_study(app: web.Application) -> None:
    """Invite PEOPLE people to STUDY and give them the states above."""
    provenance = Provenance(Channel.CLI, "staff", Auth.SYSTEM)
    for phone, reference in zip(PHONES, REFERENCES, strict=True):
        await app[keys.INVITATIONS].invite(
            STUDY, phone=phone, reference=reference, language=None, provenance=provenance
        )
    async with app[keys.DATABASE].transaction() as session:
        people = (
            await session.exec(select(Participant).order_by(col(Participant.reference)))
        ).all()
        moment = people[0].created_at
        for index, person in enumerate(people):
            assert person.id is not None
            if index < READ:
                person.first_read_at = moment
                session.add(person)
            if index >= CONFIRMED + 2:
                continue
            confirmed = index < CONFIRMED
            status = ConsentStatus.ACTIVE if confirmed else ConsentStatus.DECLINED
            session.add(
                ConsentState(
                    participant_id=person.id, purpose_id=PURPOSE, status=status.value,
                    since=moment, content_version=1, language="en",
                )
            )
            actions = [ConsentAction.ANSWER_YES, ConsentAction.CONFIRM] if confirmed else [
                ConsentAction.ANSWER_NO
            ]
            for seq, action in enumerate(actions, start=1):
                session.add(_event(person.id, seq, action, moment + timedelta(minutes=seq)))
        messages = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        messages[0].status = OutboxStatus.FAILED
        messages[1].status = OutboxStatus.UNKNOWN
        session.add_all(messages[:2])


def _event(participant_id: int, seq: int, action: ConsentAction, at: datetime) -> ConsentEvent:
    return ConsentEvent(
        participant_id=participant_id, seq=seq, study_id=STUDY, purpose_id=PURPOSE,
        action=action.value, from_status="none", to_status="none", content_version=1,
        content_digest="0" * 64, language="en", channel="sms", actor="participant",
        occurred_at=at, prev_hash="0" * 64, hash=f"{participant_id:032d}{seq:032d}",
    )
