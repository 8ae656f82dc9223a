"""Serve a verified deletion request: consent ends with removal, then text and number go.

Everything happens in one transaction: the ``erase`` events, cancelled timers, revoked
links, deleted transcripts, blanked messages and the removed number are all there or
none is. The ledger stays (it is the record of what the person decided, the deletion
request included) and so does the participant's reference, so the study team can
show that the request was served.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import UnknownParticipant, UnknownStudy
from consentbot.services.pipeline import BySms, ErasureRequested, ForParticipant, TurnPipeline
from consentbot.store.accesses import AccessRepository
from consentbot.store.contacts import ContactRepository
from consentbot.store.erasure import ErasureRepository
from consentbot.store.participants import ParticipantRepository

log = structlog.get_logger(__name__)

STAFF = Provenance(Channel.CLI, "staff", Auth.SYSTEM)
"""The study team served the request, having checked who was asking."""


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did (or, when ``already``, what an earlier one did)."""

    study: str
    reference: str
    erased_at: datetime
    already: bool
    """Erased before: this request changed nothing."""
    events: int
    """Ledger events written now (one per purpose of the study; 0 when ``already``)."""
    number_removed: bool
    """False while another study's participant still uses the number: it stays for them."""


class ErasureService:
    """``consentbot participant erase``."""

    def __init__(self, deps: ServiceDeps, pipeline: TurnPipeline) -> None:
        self.deps = deps
        self.pipeline = pipeline

    async def erase(self, study_id: str, reference: str) -> Erasure:
        """Erase ``reference`` from ``study_id``; erasing again changes nothing."""
        deps = self.deps
        if deps.studies.get(study_id) is None:
            raise UnknownStudy(f"there is no study {study_id!r}", field="study")
        now = deps.clock()
        async with deps.db.transaction() as session:
            participants = ParticipantRepository(session)
            found = await participants.by_reference(study_id, reference)
            if found is None or found.id is None:
                raise UnknownParticipant(
                    f"no participant {reference!r} in study {study_id!r}", field="reference"
                )
            rows = ErasureRepository(session)
            # Web sessions first, then the contact (in the pipeline): the order every
            # web turn takes, so the two never deadlock on PostgreSQL.
            web_sessions = await rows.lock_web_sessions(found.id)
            outcome = await self.pipeline.run(
                session, ForParticipant(found.id), ErasureRequested(), STAFF, BySms(), now
            )
            # Read under the contact's lock: a second erasure at the same moment waited
            # for the first and sees it here.
            participant = await participants.locked_get(found.id)
            contact = await ContactRepository(session, deps.vault).get(found.contact_id)
            assert participant is not None
            assert contact is not None
            assert contact.id is not None
            if outcome.turn is None:
                assert participant.erased_at is not None
                return Erasure(
                    study_id,
                    reference,
                    participant.erased_at,
                    already=True,
                    events=0,
                    number_removed=contact.erased_at is not None,
                )
            await rows.clear_web_sessions(web_sessions, now)
            await rows.blank_outbox(participant_id=found.id)
            # The record that their data was used stays (and still verifies); who it was
            # about goes (docs/retention.md).
            await AccessRepository(session).unlink(found.id)
            if contact.prompted_participant_id == found.id:
                contact.prompted_participant_id = None
                session.add(contact)
            shared = await participants.others_on_contact(contact.id, found.id)
            if not shared:
                await rows.wipe_contact(contact, now)
            participant.erased_at = now
            await participants.save(participant, now)
        events = len(outcome.turn.changes)
        log.info(
            "participant.erased",
            study=study_id,
            participant=found.id,
            events=events,
            number_removed=not shared,
        )
        return Erasure(
            study_id, reference, now, already=False, events=events, number_removed=not shared
        )
