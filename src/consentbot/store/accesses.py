"""Access records: append them under the right locks, read them for WHO, unlink on erasure."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.accesses import (
    AccessorKind,
    AccessSeen,
    access_fields,
    access_hash,
    link_hash,
    participants_digest,
)
from consentbot.domain.ledger_hash import GENESIS
from consentbot.store.tables import (
    AccessChain,
    AccessRequest,
    ConsentState,
    Contact,
    DataAccess,
    DataAccessParticipant,
    Participant,
)

T = TypeVar("T")
_IN_CHUNK = 500
"""Values per IN (...) list: well inside every database's limit on parameters."""


@dataclass(frozen=True, slots=True)
class Named:
    """A participant named in an access request."""

    participant_id: int
    contact_id: int


@dataclass(frozen=True, slots=True)
class NewAccess:
    """What a research system says it used, before it is chained."""

    study_id: str
    purpose_id: str
    accessor_name: str
    accessor_organisation: str
    accessor_kind: AccessorKind
    dataset: str
    reason: str


def _chunks(values: Sequence[T]) -> list[Sequence[T]]:
    return [values[start : start + _IN_CHUNK] for start in range(0, len(values), _IN_CHUNK)]


class AccessRepository:
    """Access records inside the caller's transaction. Nothing here updates or deletes a
    record; :meth:`unlink` only empties the person's side of their link rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def named(self, study_id: str, references: Sequence[str]) -> dict[str, Named]:
        """The study's participants among ``references`` (read without locks: a participant's
        contact never changes)."""
        found: dict[str, Named] = {}
        for chunk in _chunks(references):
            statement = select(Participant.reference, Participant.id, Participant.contact_id).where(
                Participant.study_id == study_id, col(Participant.reference).in_(chunk)
            )
            for reference, participant_id, contact_id in (await self.session.exec(statement)).all():
                if participant_id is not None:
                    found[reference] = Named(participant_id, contact_id)
        return found

    async def lock_contacts(self, contact_ids: set[int]) -> None:
        """Lock the contacts, lowest id first: the lock every consent change takes, in an order
        that two requests naming the same people never deadlock on (PostgreSQL; SQLite has one
        writer)."""
        for chunk in _chunks(sorted(contact_ids)):
            statement = (
                select(Contact.id)
                .where(col(Contact.id).in_(chunk))
                .order_by(col(Contact.id))
                .with_for_update()
            )
            await self.session.exec(statement)

    async def statuses(self, purpose_id: str, participant_ids: Sequence[int]) -> dict[int, str]:
        """Current status for one purpose (read after the contacts' locks); none if unanswered."""
        found: dict[int, str] = {}
        for chunk in _chunks(participant_ids):
            statement = select(ConsentState.participant_id, ConsentState.status).where(
                ConsentState.purpose_id == purpose_id,
                col(ConsentState.participant_id).in_(chunk),
            )
            found.update((await self.session.exec(statement)).all())
        return found

    async def lock_chain(self, study_id: str) -> AccessChain:
        """The study's chain head, locked until commit (created on the study's first record)."""
        bind = self.session.bind
        assert bind is not None
        dialect = sqlite if bind.dialect.name == "sqlite" else postgresql
        await self.session.exec(
            dialect.insert(AccessChain)
            .values(study_id=study_id, seq=0, head=GENESIS)
            .on_conflict_do_nothing()
        )
        statement = (
            select(AccessChain)
            .where(AccessChain.study_id == study_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        chain = (await self.session.exec(statement)).one()
        return chain

    async def append(
        self, chain: AccessChain, new: NewAccess, participant_ids: Sequence[int], now: datetime
    ) -> DataAccess:
        """Chain a record after the study's last and link its participants (chain locked)."""
        access = DataAccess(
            study_id=new.study_id,
            seq=chain.seq + 1,
            purpose_id=new.purpose_id,
            accessor_name=new.accessor_name,
            accessor_organisation=new.accessor_organisation,
            accessor_kind=new.accessor_kind,
            dataset=new.dataset,
            reason=new.reason,
            recorded_at=now,
            participant_count=len(participant_ids),
            participants_digest="",
            prev_hash=chain.head,
            hash="",
        )
        self.session.add(access)
        await self.session.flush()
        assert access.id is not None
        links: list[dict[str, object]] = []
        hashes: list[str] = []
        for participant_id in participant_ids:
            nonce = secrets.token_hex(16)
            hashes.append(link_hash(nonce, access.id, participant_id))
            links.append(
                {
                    "access_id": access.id,
                    "participant_id": participant_id,
                    "nonce": nonce,
                    "link_hash": hashes[-1],
                }
            )
        for start in range(0, len(links), 5000):
            await self.session.exec(
                insert(DataAccessParticipant),
                params=links[start : start + 5000],
            )
        access.participants_digest = participants_digest(hashes)
        access.hash = access_hash(access.prev_hash, hashed_access_fields(access))
        chain.seq, chain.head = access.seq, access.hash
        self.session.add_all([access, chain])
        return access

    async def answered(self, study_id: str, key_hash: str) -> AccessRequest | None:
        """The request first made with this idempotency key, if it was."""
        statement = select(AccessRequest).where(
            AccessRequest.study_id == study_id, AccessRequest.key_hash == key_hash
        )
        return (await self.session.exec(statement)).first()

    def remember(
        self, study_id: str, key_hash: str, body_hash: str, response: str, now: datetime
    ) -> None:
        """Keep the answer to a request made with an idempotency key."""
        self.session.add(
            AccessRequest(
                study_id=study_id,
                key_hash=key_hash,
                body_hash=body_hash,
                response=response,
                created_at=now,
            )
        )

    async def of_participant(self, participant_id: int) -> list[DataAccess]:
        """The records that used this participant's data, newest first."""
        statement = (
            select(DataAccess)
            .join(DataAccessParticipant, col(DataAccessParticipant.access_id) == col(DataAccess.id))
            .where(DataAccessParticipant.participant_id == participant_id)
            .order_by(col(DataAccess.recorded_at).desc(), col(DataAccess.id).desc())
        )
        return list((await self.session.exec(statement)).all())

    async def unlink(self, participant_id: int) -> int:
        """Erasure: the records stay, but no longer say that they were about this person."""
        result = await self.session.exec(
            update(DataAccessParticipant)
            .where(col(DataAccessParticipant.participant_id) == participant_id)
            .values(participant_id=None, nonce=None)
        )
        return int(result.rowcount or 0)


def seen_by_participant(row: DataAccess) -> AccessSeen:
    """A stored record as WHO tells the person about it."""
    return AccessSeen(
        row.purpose_id,
        row.accessor_name,
        row.accessor_organisation,
        row.accessor_kind,
        row.recorded_at,
    )


def hashed_access_fields(access: DataAccess) -> dict[str, object]:
    """The fields a record's hash covers (domain.accesses.access_fields)."""
    return access_fields(
        study_id=access.study_id,
        seq=access.seq,
        purpose_id=access.purpose_id,
        accessor_name=access.accessor_name,
        accessor_organisation=access.accessor_organisation,
        accessor_kind=access.accessor_kind.value,
        dataset=access.dataset,
        reason=access.reason,
        recorded_at=access.recorded_at,
        participant_count=access.participant_count,
        participants_digest=access.participants_digest,
    )
