"""Read back what the service stored, by phone number (the tables hold only keyed hashes)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlmodel import col, select

from consentbot import keys
from consentbot.content.live import Studies
from consentbot.services.audit import LedgerAudit
from consentbot.store.contacts import ContactRepository
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.outbox import OutboxRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import ConsentEvent, InboundMessage, OutboxMessage, Timer

Transition = tuple[str, str, str]
"""A ledger event as (purpose, from status, to status)."""


@dataclass
class Records:
    """Read-only views of one database, for assertions."""

    db: Database
    vault: PhoneVault
    studies: Studies

    @classmethod
    def of(cls, app: web.Application) -> Records:
        """The records of a running app."""
        secret = app[keys.SETTINGS].secret_key
        assert secret is not None
        return cls(app[keys.DATABASE], PhoneVault(secret), app[keys.STUDIES])

    async def _contact_id(self, phone: str) -> int | None:
        async with self.db.read() as session:
            contact = await ContactRepository(session, self.vault).find(phone)
        return None if contact is None else contact.id

    async def outbox(self, phone: str) -> list[OutboxMessage]:
        """Every message queued for ``phone``, oldest first."""
        contact_id = await self._contact_id(phone)
        if contact_id is None:
            return []
        async with self.db.read() as session:
            return list(await OutboxRepository(session).for_contact(contact_id))

    async def ledger(self, phone: str) -> list[ConsentEvent]:
        """The consent events of the one participant ``phone`` is, oldest first."""
        contact_id = await self._contact_id(phone)
        if contact_id is None:
            return []
        async with self.db.read() as session:
            participants = await ParticipantRepository(session).for_contact(contact_id)
            if not participants:
                return []
            assert len(participants) == 1, f"{phone} is in {len(participants)} studies"
            statement = (
                select(ConsentEvent)
                .where(ConsentEvent.participant_id == participants[0].id)
                .order_by(col(ConsentEvent.seq))
            )
            return list((await session.exec(statement)).all())

    async def transitions(self, phone: str) -> list[Transition]:
        """The participant's ledger as (purpose, from, to), oldest first."""
        return [(e.purpose_id, e.from_status, e.to_status) for e in await self.ledger(phone)]

    async def consent(self, phone: str) -> dict[str, str]:
        """Purpose -> current status (only purposes ever answered) of ``phone``'s participant."""
        contact_id = await self._contact_id(phone)
        assert contact_id is not None, f"{phone} never reached the service"
        async with self.db.read() as session:
            repository = ParticipantRepository(session)
            (participant,) = await repository.for_contact(contact_id)
            states = await repository.consent(participant.id or 0)
        return {state.purpose_id: state.status for state in states}

    async def inbound_message_ids(self) -> list[str]:
        """Every gateway message id the service recorded as handled."""
        async with self.db.read() as session:
            return list((await session.exec(select(InboundMessage.gateway_message_id))).all())

    async def timers(self) -> list[Timer]:
        """Every timer, in the order they were made."""
        async with self.db.read() as session:
            return list((await session.exec(select(Timer).order_by(col(Timer.id)))).all())

    async def waiting(self) -> list[OutboxMessage]:
        """Messages still ``pending`` (whenever they are due)."""
        async with self.db.read() as session:
            statement = select(OutboxMessage).where(OutboxMessage.status == "pending")
            return list((await session.exec(statement)).all())

    async def ledger_findings(self) -> list[str]:
        """What the ledger audit (chains, rules, projection) finds wrong: nothing, we hope."""
        report = await LedgerAudit(self.db, self.studies).verify()
        return [str(finding) for finding in report.findings]
