"""What the person is given after an assisted visit: what was recorded, and how to change it.

The worker gives it with "End of the visit" (:meth:`AssistedSessions.finish`). A visit
the worker leaves without it, idle for 30 minutes or past its length, ends on its own
(:meth:`AssistedReceipts.close_lapsed`, run by ``serve``), and the person is sent the
same receipt: nobody is left without a record of what they chose because a tablet was
put down.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum

import structlog
from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.conversation.assisted_messages import assisted_receipt
from consentbot.domain.helping import VISIT_IDLE
from consentbot.domain.outbox import OutboxKind
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import UnknownStudy
from consentbot.services.participation import consent_from
from consentbot.store.contacts import ContactRepository
from consentbot.store.outbox import OutboxRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import AssistedSession

log = structlog.get_logger(__name__)

LAPSED_EVERY = 60.0
"""Seconds between looks for visits that ended on their own."""


class ReceiptBy(StrEnum):
    """How the person gets what a session recorded."""

    SMS = "sms"
    """Queued in the outbox, in their language (quiet hours hold it)."""
    PRINT = "print"
    """The worker prints it: the person has no usable phone."""
    STOPPED = "stopped"
    """Their number asked for no messages: the worker prints it."""
    NOTHING = "nothing"
    """Nothing changed since the last receipt: nothing is sent again."""


class AssistedReceipts:
    """Decide and queue a visit's receipt; end visits left idle."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def decide(
        self, session: AsyncSession, assisted: AssistedSession, now: datetime
    ) -> ReceiptBy:
        """``assisted``'s receipt, queued in ``session`` when it goes by SMS.

        Only what changed since the visit opened or its last receipt is worth a text;
        never to a number that sent STOP, nor when the worker said there is no phone.
        """
        participant_id = assisted.participant_id
        session.add(assisted)
        participants = ParticipantRepository(session)
        contact_id = await participants.contact_id_of(participant_id)
        assert contact_id is not None
        # The contact's lock first, as every turn takes it: the receipt reads settled choices.
        contact = await ContactRepository(session, self.deps.vault).get(contact_id, lock=True)
        participant = await participants.get(participant_id)
        assert contact is not None
        assert participant is not None
        if assisted.no_phone:
            return ReceiptBy.PRINT
        if participant.ledger_seq <= assisted.receipt_seq or participant.erased_at:
            return ReceiptBy.NOTHING
        assisted.receipt_seq = participant.ledger_seq
        if contact.stopped:
            return ReceiptBy.STOPPED
        study = self.deps.studies.get(participant.study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {participant.study_id!r}")
        consent = consent_from(await participants.consent(participant_id))
        say = self.deps.lexicon.say(participant.language, study.timezone)
        body = assisted_receipt(say, study, study.text(participant.language), consent)
        outbox = OutboxRepository(session, self.deps.vault)
        message = outbox.plan(
            contact_id=contact_id,
            participant_id=participant_id,
            kind=OutboxKind.ASSISTED_RECEIPT,
            body=body,
            always=False,
            send_after=now,
            now=now,
            max_segments=self.deps.max_segments,
        )
        await outbox.add_all(message)
        return ReceiptBy.SMS

    async def close_lapsed(self, limit: int = 100) -> int:
        """End visits left idle (or past their length), each with its receipt.

        As if the worker had pressed "End of the visit" (by SMS unless they said the
        person has no usable phone). One transaction per visit; a visit another process
        holds or ended meanwhile is skipped. Returns how many ended.
        """
        now = self.deps.clock()
        async with self.deps.db.read() as session:
            statement = (
                select(AssistedSession.id)
                .where(
                    col(AssistedSession.closed_at).is_(None),
                    or_(
                        col(AssistedSession.ends_at) <= now,
                        col(AssistedSession.last_active_at) <= now - VISIT_IDLE,
                    ),
                )
                .order_by(col(AssistedSession.id))
                .limit(limit)
            )
            lapsed = list((await session.exec(statement)).all())
        ended = 0
        for assisted_id in lapsed:
            async with self.deps.db.transaction() as session:
                assisted = (
                    await session.exec(
                        select(AssistedSession)
                        .where(
                            AssistedSession.id == assisted_id,
                            col(AssistedSession.closed_at).is_(None),
                        )
                        .with_for_update(skip_locked=True)
                    )
                ).first()
                if assisted is None:
                    continue
                assisted.closed_at = now
                by = await self.decide(session, assisted, now)
            ended += 1
            log.info("assisted.visit_lapsed", participant=assisted.participant_id, receipt=by.value)
            if by is ReceiptBy.SMS:
                self.deps.on_outbox()
        return ended


async def run_lapsed_visits(receipts: AssistedReceipts, every: float = LAPSED_EVERY) -> None:
    """End lapsed visits every ``every`` seconds until cancelled."""
    while True:
        try:
            await receipts.close_lapsed()
        except Exception:
            # A failed round is retried next time: a receipt is late, never lost.
            log.exception("assisted.lapsed_round_failed")
        await asyncio.sleep(every)
