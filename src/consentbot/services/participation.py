"""A participant with everything a turn needs, loaded once inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study
from consentbot.conversation.engine import Context
from consentbot.conversation.state import ConversationState
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.services.deps import ServiceDeps
from consentbot.store.contacts import ContactRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import Contact, Participant


@dataclass
class Participation:
    """One person in one study: their study, row, (locked) contact and current consent."""

    study: Study
    participant: Participant
    contact: Contact
    consent: dict[str, PurposeConsent]

    @property
    def participant_id(self) -> int:
        """The participant's id (always set once stored)."""
        assert self.participant.id is not None
        return self.participant.id

    @property
    def contact_id(self) -> int:
        """The contact's id (always set once stored)."""
        assert self.contact.id is not None
        return self.contact.id

    def engine(self, deps: ServiceDeps, now: datetime) -> tuple[Context, ConversationState]:
        """What the conversation engine needs, and where the conversation is."""
        ctx = Context(
            study=self.study,
            language=self.study.language_or_default(self.participant.language),
            lexicon=deps.lexicon,
            consent=self.consent,
            now=now,
            stopped=self.contact.stopped,
        )
        return ctx, ConversationState.from_json(self.participant.conversation)


async def with_consent(
    session: AsyncSession, study: Study, participant: Participant, contact: Contact
) -> Participation:
    """Complete a participation whose rows the caller already holds (and has locked)."""
    states = await ParticipantRepository(session).consent(participant.id or 0)
    consent = {
        state.purpose_id: PurposeConsent(
            ConsentStatus(state.status), state.since, state.pending_since
        )
        for state in states
    }
    return Participation(study, participant, contact, consent)


async def load_participation(
    session: AsyncSession, deps: ServiceDeps, participant_id: int
) -> Participation | None:
    """Load a participant and lock their contact (serialising all work for one number).

    None when the participant is gone or their study is no longer in the content.
    """
    participant = await ParticipantRepository(session).get(participant_id)
    if participant is None:
        return None
    contact = await ContactRepository(session, deps.vault).get(participant.contact_id, lock=True)
    study = deps.studies.get(participant.study_id)
    if contact is None or study is None:
        return None
    return await with_consent(session, study, participant, contact)
