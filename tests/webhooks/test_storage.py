"""Secrets at rest and several processes: sealed, rotated with the key, claimed once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from consentbot.content.loader import load_catalogue
from consentbot.domain.webhooks import DeliveryStatus
from consentbot.services.clock import ManualClock
from consentbot.services.key_rotation import KeyRotation
from consentbot.services.webhooks import WebhookAdmin
from consentbot.store.crypto import PhoneVault, key_id_of, stored_key_id
from consentbot.store.database import Database
from consentbot.store.rekeying import WEBHOOK_SECRETS
from consentbot.store.tables import Contact, Participant, Webhook
from consentbot.store.webhooks import WebhookRepository, webhook_aad
from tests.conftest import ROOT, SECRET
from tests.support.journey import STUDY

NEW = "the-new-secret-key-after-rotation-0123456789"


async def test_webhook_secrets_move_to_the_new_key(database_url: str, clock: ManualClock) -> None:
    db = Database(database_url)
    try:
        studies = load_catalogue(ROOT / "content")
        added = await WebhookAdmin(db, PhoneVault(SECRET), clock, studies).add(STUDY, "https://x.example/h")
        both = PhoneVault(NEW, [SECRET])
        assert [(c.column, c.key_id) for c in await KeyRotation(db, both).status() if c.column == WEBHOOK_SECRETS] == [
            (WEBHOOK_SECRETS, key_id_of(SECRET))
        ]
        report = await KeyRotation(db, both).rotate()
        assert report.rewritten[WEBHOOK_SECRETS] == 1
        assert report.problems == []
        async with db.read() as session:
            stored = (await session.exec(select(Webhook))).one()
        assert stored_key_id(stored.secret_encrypted) == key_id_of(NEW)
        assert PhoneVault(NEW).open_secret(stored.secret_encrypted, webhook_aad(added.id)) == added.secret
        assert (await KeyRotation(db, both).rotate()).rewritten[WEBHOOK_SECRETS] == 0
    finally:
        await db.dispose()


async def test_two_processes_never_claim_the_same_delivery(database_url: str) -> None:
    """Two deliverers' claims at the same moment share the due deliveries, each taken once,
    and never two of one participant's at once."""
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    db = Database(database_url)
    other = Database(database_url)
    try:
        async with db.transaction() as session:
            webhook = Webhook(study_id=STUDY, url="https://x.example/h", secret_encrypted="x", created_at=now)
            session.add(webhook)
            for n in range(1, 21):
                contact = Contact(phone_hash=f"{n:064x}", phone_encrypted="x", created_at=now)
                session.add(contact)
                await session.flush()
                assert contact.id is not None
                person = Participant(
                    study_id=STUDY, reference=f"P-{n}", contact_id=contact.id, language="en",
                    content_version=1, created_at=now, updated_at=now,
                )
                session.add(person)
                await session.flush()
                assert webhook.id is not None
                assert person.id is not None
                for change in range(2):
                    WebhookRepository(session).queue(webhook.id, person.id, f'{{"n":{n},"change":{change}}}', now)

        async def claim(database: Database) -> list[tuple[int, int]]:
            async with database.transaction() as session:
                taken = await WebhookRepository(session).claim_due(now, now + timedelta(minutes=2), 15)
                await asyncio.sleep(0)  # the other claim runs while these rows are locked
                return [(d.id or 0, d.participant_id) for d, _w in taken]

        first, second = await asyncio.gather(claim(db), claim(other))
        ids = [delivery for delivery, _p in first + second]
        assert len(ids) == len(set(ids)) == 20  # each participant's first change, once
        participants = [person for _d, person in first + second]
        assert len(participants) == len(set(participants))
        async with db.read() as session:
            repository = WebhookRepository(session)
            assert not await repository.any_due(now)  # claimed: leased, not due again
            assert await repository.any_due(now + timedelta(minutes=2))
            statuses = {d.status for d in await repository.for_participant(participants[0])}
        assert statuses == {DeliveryStatus.PENDING}
    finally:
        await db.dispose()
        await other.dispose()
