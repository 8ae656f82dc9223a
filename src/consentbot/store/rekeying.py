"""The rows ``consentbot keys rotate`` rewrites: counted by key id, and taken batch by batch.

A row's key is the one its ciphertext names (``v2.<key id>.``; none for a ciphertext from
before key ids). A lookup hash has no key id, but it is always rewritten together with
the ciphertext beside it, so the ciphertext's key is the row's key.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, not_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.crypto import CIPHERTEXT_VERSION, KEY_ID_LENGTH, PhoneVault
from consentbot.store.tables import Contact, OutboxMessage, PhoneVerification, StaffUser, Webhook

CONTACT_PHONES = "contact.phone_encrypted"
VERIFICATION_PHONES = "phone_verification.phone_encrypted"
OUTBOX_SECRETS = "outbox.secret_encrypted"
STAFF_TOTP = "staff_user.totp_secret_encrypted"
WEBHOOK_SECRETS = "webhook.secret_encrypted"


@dataclass(frozen=True, slots=True)
class KeyCount:
    """How many rows of one encrypted column are under one key (None: from before key ids)."""

    column: str
    key_id: str | None
    rows: int


class RekeyRepository:
    """Find rows not under the current key, and count rows per key id."""

    def __init__(self, session: AsyncSession, vault: PhoneVault) -> None:
        self.session = session
        self.vault = vault

    async def counts(self) -> list[KeyCount]:
        """Rows per key id of every encrypted column (erased and settled rows hold none)."""
        found: list[KeyCount] = []
        for name, column, present in self._columns():
            key_id = case(
                (
                    column.startswith(f"{CIPHERTEXT_VERSION}."),
                    func.substr(column, len(CIPHERTEXT_VERSION) + 2, KEY_ID_LENGTH),
                ),
                else_=literal(None),
            ).label("key_id")
            # Grouped in an outer query: PostgreSQL would not match the bound
            # parameters of a CASE repeated in GROUP BY.
            keyed = select(key_id).where(present).subquery()
            statement = select(keyed.c.key_id, func.count()).group_by(keyed.c.key_id)
            for key, rows in (await self.session.exec(statement)).all():
                found.append(KeyCount(name, key, rows))
        return sorted(found, key=lambda count: (count.column, count.key_id or ""))

    async def contacts(self, after: int, limit: int) -> Sequence[Contact]:
        """The next contacts (by id, after ``after``) not under the current key; not locked."""
        statement = (
            select(Contact)
            .where(col(Contact.id) > after, self._outdated(col(Contact.phone_encrypted)))
            .order_by(col(Contact.id))
            .limit(limit)
        )
        return (await self.session.exec(statement)).all()

    async def lock_contacts(self, ids: Collection[int]) -> Sequence[Contact]:
        """These contacts, locked, if they are still not under the current key."""
        statement = (
            select(Contact)
            .where(col(Contact.id).in_(ids), self._outdated(col(Contact.phone_encrypted)))
            .order_by(col(Contact.id))
            .with_for_update()
        )
        return (await self.session.exec(statement)).all()

    async def contacts_with_hashes(self, hashes: Collection[str]) -> Sequence[Contact]:
        """Contacts whose lookup hash is one of ``hashes``."""
        statement = select(Contact).where(col(Contact.phone_hash).in_(hashes))
        return (await self.session.exec(statement)).all()

    async def lock_verifications_with_hashes(
        self, hashes: Collection[str]
    ) -> Sequence[PhoneVerification]:
        """Verifications of the numbers with these hashes, locked."""
        statement = (
            select(PhoneVerification)
            .where(col(PhoneVerification.phone_hash).in_(hashes))
            .order_by(col(PhoneVerification.id))
            .with_for_update()
        )
        return (await self.session.exec(statement)).all()

    async def verifications(self, after: int, limit: int) -> Sequence[PhoneVerification]:
        """The next verifications not under the current key, locked."""
        column = col(PhoneVerification.phone_encrypted)
        statement = (
            select(PhoneVerification)
            .where(col(PhoneVerification.id) > after, self._outdated(column))
            .order_by(col(PhoneVerification.id))
            .limit(limit)
            .with_for_update()
        )
        return (await self.session.exec(statement)).all()

    async def outbox_secrets(self, after: int, limit: int) -> Sequence[OutboxMessage]:
        """The next outbox messages whose secret is not under the current key, locked."""
        column = col(OutboxMessage.secret_encrypted)
        statement = (
            select(OutboxMessage)
            .where(col(OutboxMessage.id) > after, column.is_not(None), self._outdated(column))
            .order_by(col(OutboxMessage.id))
            .limit(limit)
            .with_for_update()
        )
        return (await self.session.exec(statement)).all()

    async def staff_totp_secrets(self, after: int, limit: int) -> Sequence[StaffUser]:
        """The next staff accounts whose TOTP secret is not under the current key, locked."""
        column = col(StaffUser.totp_secret_encrypted)
        statement = (
            select(StaffUser)
            .where(col(StaffUser.id) > after, column.is_not(None), self._outdated(column))
            .order_by(col(StaffUser.id))
            .limit(limit)
            .with_for_update()
        )
        return (await self.session.exec(statement)).all()

    async def webhook_secrets(self, after: int, limit: int) -> Sequence[Webhook]:
        """The next webhooks whose signing secret is not under the current key, locked."""
        column = col(Webhook.secret_encrypted)
        statement = (
            select(Webhook)
            .where(col(Webhook.id) > after, self._outdated(column))
            .order_by(col(Webhook.id))
            .limit(limit)
            .with_for_update()
        )
        return (await self.session.exec(statement)).all()

    def _outdated(self, column: Any) -> ColumnElement[bool]:
        # An erased number leaves an empty ciphertext: nothing to rewrite.
        current: ColumnElement[bool] = column.startswith(self.vault.current_prefix, autoescape=True)
        return and_(not_(current), column != "")

    @staticmethod
    def _columns() -> list[tuple[str, Any, ColumnElement[bool]]]:
        contact = col(Contact.phone_encrypted)
        verification = col(PhoneVerification.phone_encrypted)
        secret = col(OutboxMessage.secret_encrypted)
        totp = col(StaffUser.totp_secret_encrypted)
        webhook = col(Webhook.secret_encrypted)
        return [
            (CONTACT_PHONES, contact, contact != ""),
            (VERIFICATION_PHONES, verification, verification != ""),
            (OUTBOX_SECRETS, secret, secret.is_not(None)),
            (STAFF_TOTP, totp, totp.is_not(None)),
            (WEBHOOK_SECRETS, webhook, webhook != ""),
        ]
