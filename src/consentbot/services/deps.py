"""What every service needs, gathered once by the app factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentbot.content.live import LiveCatalogue
from consentbot.conversation.lexicon import Lexicon
from consentbot.metrics import Metrics
from consentbot.services.clock import Clock
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.phones import SendingPolicy


@dataclass(frozen=True)
class ServiceDeps:
    """Shared, long-lived collaborators of the services."""

    db: Database
    vault: PhoneVault
    studies: LiveCatalogue
    """The studies served now: read it on each turn, never keep a copy."""
    lexicon: Lexicon
    clock: Clock
    default_region: str
    max_segments: int
    public_url: str | None
    """Where people reach the web pages; personal links are built on it."""
    sending: SendingPolicy
    """Which numbers we may start texting (codes, invitations)."""
    link_lifetime: timedelta
    """How long a personal link works."""
    on_outbox: Callable[[], None]
    """Called after a commit that queued messages: wakes the dispatcher."""
    audit_key: Callable[[], Ed25519PrivateKey]
    """The audit signing key (loaded, or generated, on first use): signs consent receipts."""
    metrics: Metrics = field(default_factory=Metrics)
    """Where turns are counted and timed (the app's; a fresh one where nobody scrapes)."""
