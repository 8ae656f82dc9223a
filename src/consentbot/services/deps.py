"""What every service needs, gathered once by the app factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from consentbot.content.model import Study, StudyCatalogue
from consentbot.conversation.lexicon import Lexicon
from consentbot.services.clock import Clock
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database


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
