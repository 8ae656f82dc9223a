"""``consentbot webhook add | list | remove | status``: a study's receivers of consent changes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import structlog

from consentbot.content.live import Studies
from consentbot.domain.webhooks import SECRET_BYTES, secret_from, url_problem
from consentbot.services.clock import Clock
from consentbot.services.errors import InvalidInput, ServiceError, UnknownStudy
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.tables import Webhook
from consentbot.store.webhooks import DeliveryCounts, WebhookRepository, webhook_aad

log = structlog.get_logger(__name__)


class UnknownWebhook(ServiceError):
    """No webhook with that id."""


@dataclass(frozen=True, slots=True)
class AddedWebhook:
    """A new webhook and its signing secret: the only time the secret is shown."""

    id: int
    study: str
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    """A webhook as ``webhook list`` shows it (never its secret)."""

    id: int
    study: str
    url: str
    created: datetime
    removed: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookStatus:
    """A webhook and its deliveries."""

    webhook: WebhookInfo
    counts: DeliveryCounts


class WebhookAdmin:
    """Register, list, remove and report on webhooks."""

    def __init__(self, db: Database, vault: PhoneVault, clock: Clock, studies: Studies) -> None:
        self.db = db
        self.vault = vault
        self.clock = clock
        self.studies = studies

    async def add(self, study_id: str, url: str) -> AddedWebhook:
        """Register ``url`` for ``study_id``'s consent changes, with a new signing secret."""
        if self.studies.get(study_id) is None:
            raise UnknownStudy(f"there is no study {study_id!r}", field="study")
        problem = url_problem(url)
        if problem is not None:
            raise InvalidInput(problem, field="url")
        secret = secret_from(secrets.token_bytes(SECRET_BYTES))
        async with self.db.transaction() as session:
            webhooks = WebhookRepository(session)
            webhook = await webhooks.add(study_id, url, self.clock())
            assert webhook.id is not None
            webhook.secret_encrypted = self.vault.seal_secret(secret, webhook_aad(webhook.id))
            session.add(webhook)
        log.info("webhook.added", webhook=webhook.id, study=study_id)
        return AddedWebhook(webhook.id, study_id, url, secret)

    async def all(self, study_id: str | None = None) -> list[WebhookInfo]:
        """Every webhook (of ``study_id``), removed ones included."""
        async with self.db.read() as session:
            return [_info(webhook) for webhook in await WebhookRepository(session).all(study_id)]

    async def remove(self, webhook_id: int) -> tuple[WebhookInfo, int]:
        """Stop deliveries to a webhook; returns it and how many waiting ones were cancelled."""
        async with self.db.transaction() as session:
            webhooks = WebhookRepository(session)
            webhook = await webhooks.get(webhook_id)
            if webhook is None:
                raise UnknownWebhook(f"there is no webhook {webhook_id}", field="id")
            if webhook.removed_at is not None:
                return _info(webhook), 0
            cancelled = await webhooks.remove(webhook, self.clock())
        log.info("webhook.removed", webhook=webhook_id, cancelled=cancelled)
        return _info(webhook), cancelled

    async def status(self, study_id: str | None = None) -> list[WebhookStatus]:
        """Deliveries, failures and the backlog of every webhook (of ``study_id``)."""
        async with self.db.read() as session:
            webhooks = WebhookRepository(session)
            found = await webhooks.all(study_id)
            counts = await webhooks.counts([webhook.id or 0 for webhook in found])
        return [WebhookStatus(_info(webhook), counts[webhook.id or 0]) for webhook in found]


def _info(webhook: Webhook) -> WebhookInfo:
    assert webhook.id is not None
    return WebhookInfo(
        webhook.id, webhook.study_id, webhook.url, webhook.created_at, webhook.removed_at
    )
