"""``consentbot keys rotate``: rewrite everything at rest under the current key, while serving.

Phone numbers (with their lookup hashes) and outbox secrets not under the current key
are decrypted with the key they name and written again under the current one, a batch
at a time, one short transaction per batch with its rows locked (``FOR UPDATE`` on
PostgreSQL), so people keep texting and the web keeps working meanwhile. Progress is
the data itself: a second run, or a run after an interruption, carries on with what is
left and does nothing once nothing is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog

from consentbot.store.crypto import PhoneVault, SecretKeyError
from consentbot.store.database import Database
from consentbot.store.rekeying import (
    CONTACT_PHONES,
    OUTBOX_SECRETS,
    STAFF_TOTP,
    VERIFICATION_PHONES,
    WEBHOOK_SECRETS,
    KeyCount,
    RekeyRepository,
)
from consentbot.store.staff_accounts import totp_aad
from consentbot.store.tables import Contact, PhoneVerification
from consentbot.store.webhooks import webhook_aad

log = structlog.get_logger(__name__)

DEFAULT_BATCH = 500


@dataclass(frozen=True, slots=True)
class BatchDone:
    """One committed batch: which column, and how many rows it rewrote."""

    column: str
    rewritten: int


@dataclass
class RotationReport:
    """What a rotation did, and what it had to leave (never a number or a secret)."""

    rewritten: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (CONTACT_PHONES, VERIFICATION_PHONES, OUTBOX_SECRETS, STAFF_TOTP, WEBHOOK_SECRETS), 0
        )
    )
    problems: list[str] = field(default_factory=list)
    """Rows left as they were: undecryptable (a key missing) or a duplicate number."""


AfterBatch = Callable[[BatchDone], Awaitable[None]]


class KeyRotation:
    """Re-encrypts and re-hashes under the current key; counts rows per key id."""

    def __init__(
        self,
        db: Database,
        vault: PhoneVault,
        *,
        batch_size: int = DEFAULT_BATCH,
        after_batch: AfterBatch | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.db = db
        self.vault = vault
        self.batch_size = batch_size
        self.after_batch = after_batch

    async def status(self) -> list[KeyCount]:
        """How many rows each encrypted column holds under each key id."""
        async with self.db.read() as session:
            return await RekeyRepository(session, self.vault).counts()

    async def rotate(self) -> RotationReport:
        """Rewrite every row not under the current key; safe to run again at any time."""
        report = RotationReport()
        # Contacts first: their verifications move with them, in the same transaction.
        for column, batch in (
            (CONTACT_PHONES, self._contacts),
            (VERIFICATION_PHONES, self._verifications),
            (OUTBOX_SECRETS, self._outbox_secrets),
            (STAFF_TOTP, self._staff_totp_secrets),
            (WEBHOOK_SECRETS, self._webhook_secrets),
        ):
            after = 0
            while True:
                last, rewritten = await batch(after, report)
                if last is None:
                    break
                after = last
                report.rewritten[column] += rewritten
                log.info("keys.batch", column=column, rewritten=rewritten)
                if self.after_batch is not None:
                    await self.after_batch(BatchDone(column, rewritten))
        return report

    async def _contacts(self, after: int, report: RotationReport) -> tuple[int | None, int]:
        """One batch of contacts, with the verifications that carry their hash.

        A verification stores its contact's hash, which is how a checked code finds
        the contact: both are rewritten in one transaction so they always agree.
        Verifications are locked before contacts, the order checking a code takes.
        """
        async with self.db.transaction() as session:
            rows = RekeyRepository(session, self.vault)
            candidates = await rows.contacts(after, self.batch_size)
            if not candidates:
                return None, 0
            old_hashes = {contact.phone_hash for contact in candidates}
            await rows.lock_verifications_with_hashes(old_hashes)
            contacts = await rows.lock_contacts([contact.id or 0 for contact in candidates])
            # Again: a code may have been asked for between the two locks.
            verifications = await rows.lock_verifications_with_hashes(old_hashes)
            numbers = self._decrypt_contacts(contacts, report)
            new_hashes = {contact.id: self.vault.lookup_hash(e164) for contact, e164 in numbers}
            taken = {
                other.phone_hash: other.id
                for other in await rows.contacts_with_hashes(set(new_hashes.values()))
            }
            rewritten = 0
            for contact, e164 in numbers:
                new_hash = new_hashes[contact.id]
                holder = taken.get(new_hash, contact.id)
                if holder != contact.id:
                    report.problems.append(
                        f"contact {contact.id}: contact {holder} has the same number under the "
                        "current key (it was created while this one's key was not configured); "
                        "left under its old key"
                    )
                    continue
                taken[new_hash] = contact.id
                old_hash = contact.phone_hash
                contact.phone_hash = new_hash
                contact.phone_encrypted = self.vault.encrypt(e164)
                session.add(contact)
                for verification in verifications:
                    if verification.phone_hash == old_hash:
                        verification.phone_hash = new_hash
                        verification.phone_encrypted = contact.phone_encrypted
                        session.add(verification)
                rewritten += 1
            return max(contact.id or 0 for contact in candidates), rewritten

    def _decrypt_contacts(
        self, contacts: Sequence[Contact], report: RotationReport
    ) -> list[tuple[Contact, str]]:
        numbers: list[tuple[Contact, str]] = []
        for contact in contacts:
            try:
                numbers.append(
                    (contact, self.vault.decrypt(contact.phone_encrypted, contact.phone_hash))
                )
            except SecretKeyError as error:
                report.problems.append(f"contact {contact.id}: {error}")
        return numbers

    async def _verifications(self, after: int, report: RotationReport) -> tuple[int | None, int]:
        """Verifications left after their contacts (e.g. a contact since erased)."""
        async with self.db.transaction() as session:
            verifications = await RekeyRepository(session, self.vault).verifications(
                after, self.batch_size
            )
            if not verifications:
                return None, 0
            rewritten = 0
            for verification in verifications:
                if self._rewrite_verification(verification, report):
                    session.add(verification)
                    rewritten += 1
            return max(v.id or 0 for v in verifications), rewritten

    def _rewrite_verification(
        self, verification: PhoneVerification, report: RotationReport
    ) -> bool:
        try:
            e164 = self.vault.decrypt(verification.phone_encrypted, verification.phone_hash)
        except SecretKeyError as error:
            report.problems.append(f"phone_verification {verification.id}: {error}")
            return False
        verification.phone_hash = self.vault.lookup_hash(e164)
        verification.phone_encrypted = self.vault.encrypt(e164)
        return True

    async def _outbox_secrets(self, after: int, report: RotationReport) -> tuple[int | None, int]:
        async with self.db.transaction() as session:
            messages = await RekeyRepository(session, self.vault).outbox_secrets(
                after, self.batch_size
            )
            if not messages:
                return None, 0
            rewritten = 0
            for message in messages:
                assert message.secret_encrypted is not None
                try:
                    secret = self.vault.open_secret(message.secret_encrypted, message.reference)
                except SecretKeyError as error:
                    report.problems.append(f"outbox {message.id}: {error}")
                    continue
                message.secret_encrypted = self.vault.seal_secret(secret, message.reference)
                session.add(message)
                rewritten += 1
            return max(message.id or 0 for message in messages), rewritten

    async def _staff_totp_secrets(
        self, after: int, report: RotationReport
    ) -> tuple[int | None, int]:
        async with self.db.transaction() as session:
            users = await RekeyRepository(session, self.vault).staff_totp_secrets(
                after, self.batch_size
            )
            if not users:
                return None, 0
            rewritten = 0
            for user in users:
                assert user.totp_secret_encrypted is not None
                assert user.id is not None
                try:
                    secret = self.vault.open_secret(user.totp_secret_encrypted, totp_aad(user.id))
                except SecretKeyError as error:
                    report.problems.append(f"staff user {user.id}: {error}")
                    continue
                user.totp_secret_encrypted = self.vault.seal_secret(secret, totp_aad(user.id))
                session.add(user)
                rewritten += 1
            return max(user.id or 0 for user in users), rewritten

    async def _webhook_secrets(self, after: int, report: RotationReport) -> tuple[int | None, int]:
        async with self.db.transaction() as session:
            webhooks = await RekeyRepository(session, self.vault).webhook_secrets(
                after, self.batch_size
            )
            if not webhooks:
                return None, 0
            rewritten = 0
            for webhook in webhooks:
                assert webhook.id is not None
                aad = webhook_aad(webhook.id)
                try:
                    secret = self.vault.open_secret(webhook.secret_encrypted, aad)
                except SecretKeyError as error:
                    report.problems.append(f"webhook {webhook.id}: {error}")
                    continue
                webhook.secret_encrypted = self.vault.seal_secret(secret, aad)
                session.add(webhook)
                rewritten += 1
            return max(webhook.id or 0 for webhook in webhooks), rewritten
