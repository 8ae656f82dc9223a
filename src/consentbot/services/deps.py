"""What every service needs, gathered once by the app factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from consentbot.content.model import Study, StudyCatalogue
from consentbot.conversation.engine import Context
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.state import ConversationState
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.services.clock import Clock
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.tables import ConsentState, Contact, Participant


@dataclass(frozen=True)
class ServiceDeps:
    """Shared, long-lived collaborators of the services."""

    db: Database
    vault: PhoneVault
    studies: StudyCatalogue
    lexicon: Lexicon
    clock: Clock
    default_region: str
    max_segments: int
    public_url: str | None
    """Where people reach the web pages; personal links are built on it."""
    on_outbox: Callable[[], None]
    """Called after a commit that queued messages: wakes the dispatcher."""

    def proactive_send_time(self, study: Study, now: datetime) -> datetime:
        """Messages we start are held until the study's quiet hours end."""
        if study.quiet_hours is None:
            return now
        return study.quiet_hours.next_allowed(now, study.timezone)


def engine_context(
    deps: ServiceDeps,
    study: Study,
    participant: Participant,
    contact: Contact,
    states: list[ConsentState],
    now: datetime,
) -> tuple[Context, ConversationState]:
    """Build what the engine needs from stored rows."""
    consent = {
        state.purpose_id: PurposeConsent(
            ConsentStatus(state.status), state.since, state.pending_since
        )
        for state in states
    }
    ctx = Context(
        study=study,
        language=study.language_or_default(participant.language),
        lexicon=deps.lexicon,
        consent=consent,
        now=now,
        stopped=contact.stopped,
    )
    return ctx, ConversationState.from_json(participant.conversation)
