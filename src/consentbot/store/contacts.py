"""Contacts: phone numbers, found by keyed hash, locked per number while a message is handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, case
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.stopping import StopSource
from consentbot.store.crypto import PhoneVault
from consentbot.store.loaded_rows import load, table_of
from consentbot.store.tables import Contact

_IN_CHUNK = 500
"""Values per IN (...) list: well inside every database's limit on parameters."""


# Built once: a statement built per call costs more to build and key for the compiled
# cache than to run (every turn looks its sender up).
# Core, on the table: loaded_rows makes the row the session's (an ORM query costs more).
_TABLE = table_of(Contact)
_BY_HASH = sql_select(_TABLE).where(_TABLE.c.phone_hash == bindparam("hash"))
_BY_HASH_LOCKED = _BY_HASH.with_for_update()
_BY_ID = sql_select(_TABLE).where(_TABLE.c.id == bindparam("id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()


class StoredPhone(Protocol):
    """What decrypting a number needs: a contact's row, or the values a claim read."""

    @property
    def phone_encrypted(self) -> str: ...
    @property
    def phone_hash(self) -> str: ...


class ContactRepository:
    """Find, create and update contacts inside the caller's transaction."""

    def __init__(self, session: AsyncSession, vault: PhoneVault) -> None:
        self.session = session
        self.vault = vault

    async def find(self, e164: str, *, lock: bool = False) -> Contact | None:
        """The contact for this number; ``lock`` holds its row until commit (PostgreSQL).

        Locking the contact serialises everything done for one number, so two
        messages from the same phone never interleave their consent changes.
        The number is looked up under every known key: until ``keys rotate`` has
        run, a row may still carry its hash under a previous key.
        """
        return await self._find_by_hashes(self.vault.lookup_hashes(e164), lock=lock)

    async def find_by_hash(self, lookup_hash: str, *, lock: bool = False) -> Contact | None:
        """The contact whose number has this keyed hash; ``lock`` as in :meth:`find`."""
        return await self._find_by_hashes([lookup_hash], lock=lock)

    async def _find_by_hashes(self, hashes: list[str], *, lock: bool) -> Contact | None:
        if len(hashes) == 1:
            # One key: a plain, cached statement (a CASE over literal hashes is compiled
            # afresh for every look-up, which a cohort of thousands pays thousands of times).
            statement = _BY_HASH_LOCKED if lock else _BY_HASH
            found = await load(self.session, Contact, statement, {"hash": hashes[0]})
            return found[0] if found else None
        # A number has one row; should a second have been created while its old key
        # was missing from the configuration, the one under the first hash wins.
        preference = case(
            {h: rank for rank, h in enumerate(hashes)},
            value=col(Contact.phone_hash),
            else_=len(hashes),
        )
        statement = (
            select(Contact)
            .where(col(Contact.phone_hash).in_(hashes))
            .order_by(preference, col(Contact.id))
        )
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def get(self, contact_id: int, *, lock: bool = False) -> Contact | None:
        """The contact with this id; ``lock`` as in :meth:`find`."""
        statement = _BY_ID_LOCKED if lock else _BY_ID
        found = await load(self.session, Contact, statement, {"id": contact_id})
        return found[0] if found else None

    async def find_or_create(self, e164: str, now: datetime) -> Contact:
        """The locked contact for this number, created if it is new."""
        contact = await self.find(e164, lock=True)
        if contact is not None:
            return contact
        lookup = self.vault.lookup_hash(e164)
        contact = Contact(
            phone_hash=lookup, phone_encrypted=self.vault.encrypt(e164), created_at=now
        )
        try:
            async with self.session.begin_nested():
                self.session.add(contact)
                await self.session.flush()
        except IntegrityError:
            # Another request created it between our look-up and insert.
            found = await self.find(e164, lock=True)
            if found is None:
                raise
            return found
        return contact

    async def lock_or_create_many(
        self, numbers: Sequence[str], now: datetime
    ) -> dict[str, Contact]:
        """Each number's contact, created where it is new, locked until commit (PostgreSQL).

        For a cohort: a few queries in all, not a few per number. Existing rows are locked
        in id order, so two cohorts at once cannot deadlock; a number created by someone
        else meanwhile makes the insert fail (IntegrityError), and the caller's whole
        transaction with it.
        """
        hashes = {number: self.vault.lookup_hashes(number) for number in numbers}
        wanted = sorted({h for found in hashes.values() for h in found})
        by_hash: dict[str, Contact] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            statement = (
                select(Contact)
                .where(col(Contact.phone_hash).in_(wanted[start : start + _IN_CHUNK]))
                .order_by(col(Contact.id))
                .with_for_update()
            )
            by_hash.update((c.phone_hash, c) for c in (await self.session.exec(statement)).all())
        contacts: dict[str, Contact] = {}
        new: list[Contact] = []
        for number in numbers:
            # The same preference as find(): the hash under the first (current) key wins.
            found = next((by_hash[h] for h in hashes[number] if h in by_hash), None)
            if found is None:
                found = Contact(
                    phone_hash=self.vault.lookup_hash(number),
                    phone_encrypted=self.vault.encrypt(number),
                    created_at=now,
                )
                new.append(found)
            contacts[number] = found
        if new:
            self.session.add_all(new)
            await self.session.flush()
        return contacts

    def phone(self, contact: StoredPhone) -> str:
        """Decrypt the contact's number (only to hand it to a gateway)."""
        return self.vault.decrypt(contact.phone_encrypted, contact.phone_hash)

    def stop(self, contact: Contact, source: StopSource, now: datetime) -> None:
        """Record a STOP for the number, and where it came from."""
        contact.stopped = True
        contact.stopped_at = now
        contact.stopped_by = source
        self.session.add(contact)

    def start(self, contact: Contact) -> None:
        """Record a START: messages may go to the number again."""
        contact.stopped = False
        contact.stopped_at = None
        contact.stopped_by = None
        self.session.add(contact)
