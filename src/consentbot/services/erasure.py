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

from consentbot.conversation.erasure import erase
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import UnknownParticipant, UnknownStudy
from consentbot.services.participation import load_participation
from consentbot.services.turns import apply_turn
from consentbot.store.contacts import ContactRepository
from consentbot.store.erasure import ErasureRepository
from consentbot.store.links import LinkRepository
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

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

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
            web_sessions = await rows.lock_web_sessions(found.id)
            who = await load_participation(session, deps, found.id)
            assert who is not None  # the study is loaded and a participant always has a contact
            # Read again under the contact lock: a second erasure at the same moment waits
            # for the first and must then see it.
            await session.refresh(who.participant)
            if who.participant.erased_at is not None:
                return Erasure(
                    study_id,
                    reference,
                    who.participant.erased_at,
                    already=True,
                    events=0,
                    number_removed=who.contact.erased_at is not None,
                )
            turn = erase(*who.engine(deps, now))
            contacts = ContactRepository(session, deps.vault)
            await apply_turn(session, contacts, who, turn, provenance=STAFF, now=now)
            await LinkRepository(session).revoke_all(who.participant_id, now)
            await rows.clear_web_sessions(web_sessions, now)
            await rows.blank_outbox(participant_id=who.participant_id)
            if who.contact.prompted_participant_id == who.participant_id:
                who.contact.prompted_participant_id = None
                session.add(who.contact)
            shared = await participants.others_on_contact(who.contact_id, who.participant_id)
            if not shared:
                await rows.wipe_contact(who.contact, now)
            who.participant.erased_at = now
            await participants.save(who.participant, now)
        log.info(
            "participant.erased",
            study=study_id,
            participant=who.participant_id,
            events=len(turn.changes),
            number_removed=not shared,
        )
        return Erasure(
            study_id,
            reference,
            now,
            already=False,
            events=len(turn.changes),
            number_removed=not shared,
        )
