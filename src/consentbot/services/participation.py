"""A participant with everything a turn needs, loaded inside the pipeline's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from consentbot.content.model import Study
from consentbot.conversation.engine import Context
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.routing import Enrolment
from consentbot.conversation.state import ConversationState
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.store.tables import ConsentState, Contact, Participant

STILL_TO_DECIDE = frozenset(
    {ConsentStatus.PENDING, ConsentStatus.ACTIVE, ConsentStatus.RECONSENT_REQUIRED}
)


@dataclass
class Participation:
    """One person in one study: their study, row, (locked) contact and current consent."""

    study: Study
    participant: Participant
    contact: Contact
    consent: dict[str, PurposeConsent]
    callback_open: bool = False
    """A call-back request is waiting (open or claimed)."""

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

    @property
    def state(self) -> ConversationState:
        """Where the conversation is."""
        return ConversationState.from_json(self.participant.conversation)

    @property
    def language(self) -> str:
        """The language the person reads (one the study offers)."""
        return self.study.language_or_default(self.participant.language)

    def context(self, lexicon: Lexicon, now: datetime, *, can_start: bool = True) -> Context:
        """What the conversation engine needs to know about this person now."""
        return Context(
            study=self.study,
            language=self.language,
            lexicon=lexicon,
            consent=self.consent,
            now=now,
            stopped=self.contact.stopped,
            can_start=can_start,
            callback_open=self.callback_open,
        )

    def enrolment(self) -> Enrolment:
        """What routing needs to know about this participation."""
        state = self.state
        open_ = (
            any(c.status in STILL_TO_DECIDE for c in self.consent.values())
            or state.asking is not None
            or self.participant.ledger_seq == 0
        )
        return Enrolment(
            self.participant_id,
            self.study.keyword,
            open=open_,
            erased=self.participant.erased_at is not None,
        )


def consent_from(rows: Iterable[ConsentState]) -> dict[str, PurposeConsent]:
    """The engine's view of stored consent rows (purposes never answered have none)."""
    return {
        row.purpose_id: PurposeConsent(ConsentStatus(row.status), row.since, row.pending_since)
        for row in rows
    }
