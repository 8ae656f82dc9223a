"""Participants: one person in one study."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_
from sqlalchemy import select as sql_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.status import ConsentStatus
from consentbot.store.loaded_rows import keep, load, table_of
from consentbot.store.plain_rows import plain_rows
from consentbot.store.tables import ConsentState, Contact, Participant

_IN_CHUNK = 500
"""Values per IN (...) list: well inside every database's limit on parameters."""
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_reference() -> str:
    """A reference for someone who joined by keyword: unambiguous letters, easy to read out."""
    return "K-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def takes_turns(participant: Participant) -> bool:
    """False once the participant was erased on request: no conversation, no consent change.

    Routing must check it: a message for an erased participant gets no turn (see
    docs/retention.md for what it gets instead), and the ledger refuses their events.
    """
    return participant.erased_at is None


# Built once (each turn runs them): building a statement and keying it for the compiled
# cache costs more than running it.
_PARTICIPANT = table_of(Participant)
_STUDY_IDS = sql_select(_PARTICIPANT.c.id, _PARTICIPANT.c.study_id).where(
    _PARTICIPANT.c.id.in_(bindparam("ids", expanding=True))
)
_FOR_CONTACTS = (
    sql_select(_PARTICIPANT)
    .where(_PARTICIPANT.c.contact_id.in_(bindparam("ids", expanding=True)))
    .order_by(_PARTICIPANT.c.id)
)
_CONSENT_OF = sql_select(
    col(ConsentState.participant_id),
    col(ConsentState.purpose_id),
    col(ConsentState.status),
    col(ConsentState.since),
    col(ConsentState.pending_since),
).where(col(ConsentState.participant_id).in_(bindparam("ids", expanding=True)))


_STATUSES = {status.value: status for status in ConsentStatus}
"""Each status by its stored text: a look-up, where calling ``ConsentStatus`` costs a
microsecond or more, for every purpose of every participant a reminder round loads."""


class ParticipantRepository:
    """Participants and their current consent, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, participant_id: int) -> Participant | None:
        """The participant with this id."""
        return await self.session.get(Participant, participant_id)

    async def contact_id_of(self, participant_id: int) -> int | None:
        """The participant's contact, read without loading the row.

        A participant's contact never changes, so this read may come before the contact's
        lock; everything else about the participant is loaded after it.
        """
        statement = select(Participant.contact_id).where(Participant.id == participant_id)
        return (await self.session.exec(statement)).first()

    async def locked_get(self, participant_id: int) -> Participant | None:
        """The participant as it is now (call with its contact locked)."""
        statement = (
            select(Participant)
            .where(Participant.id == participant_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.exec(statement)).first()

    async def by_reference(self, study_id: str, reference: str) -> Participant | None:
        """The participant a research system knows by ``reference``."""
        statement = select(Participant).where(
            Participant.study_id == study_id, Participant.reference == reference
        )
        return (await self.session.exec(statement)).first()

    async def by_reference_or_contact(
        self, study_id: str, reference: str, contact_id: int
    ) -> list[Participant]:
        """The study's participants with this reference or this number (at most two), in one
        query: what an invitation must agree with."""
        statement = select(Participant).where(
            Participant.study_id == study_id,
            or_(col(Participant.reference) == reference, col(Participant.contact_id) == contact_id),
        )
        return list((await self.session.exec(statement)).all())

    async def by_contact(self, study_id: str, contact_id: int) -> Participant | None:
        """The participant for this number in this study."""
        statement = select(Participant).where(
            Participant.study_id == study_id, Participant.contact_id == contact_id
        )
        return (await self.session.exec(statement)).first()

    async def create(
        self,
        *,
        study_id: str,
        reference: str,
        contact_id: int,
        language: str,
        content_version: int,
        now: datetime,
        joined_by: str = "invitation",
    ) -> Participant:
        """Add a participant with no consent yet."""
        participant = Participant(
            study_id=study_id,
            reference=reference,
            contact_id=contact_id,
            language=language,
            joined_by=joined_by,
            content_version=content_version,
            created_at=now,
            updated_at=now,
        )
        self.session.add(participant)
        await self.session.flush()
        return participant

    async def create_many(
        self,
        study_id: str,
        new: Sequence[tuple[str, int, str]],
        *,
        content_version: int,
        now: datetime,
    ) -> list[Participant]:
        """Add invited participants, (reference, contact id, language) each, with no consent
        yet: one batched insert, not one per person."""
        participants = [
            Participant(
                study_id=study_id,
                reference=reference,
                contact_id=contact_id,
                language=language,
                joined_by="invitation",
                content_version=content_version,
                created_at=now,
                updated_at=now,
            )
            for reference, contact_id, language in new
        ]
        self.session.add_all(participants)
        await self.session.flush()
        return participants

    async def matching(
        self, study_id: str, *, references: Sequence[str], contact_ids: Sequence[int]
    ) -> list[Participant]:
        """The study's participants with one of these references or contacts."""
        found: dict[int | None, Participant] = {}
        for column, values in (
            (col(Participant.reference), list(references)),
            (col(Participant.contact_id), list(contact_ids)),
        ):
            for start in range(0, len(values), _IN_CHUNK):
                statement = select(Participant).where(
                    Participant.study_id == study_id,
                    column.in_(values[start : start + _IN_CHUNK]),
                )
                found.update((p.id, p) for p in (await self.session.exec(statement)).all())
        return list(found.values())

    async def for_contact(self, contact_id: int) -> list[Participant]:
        """Every study this number takes part in, oldest first."""
        statement = (
            select(Participant)
            .where(Participant.contact_id == contact_id)
            .order_by(col(Participant.id))
        )
        return list((await self.session.exec(statement)).all())

    async def for_contacts(self, contact_ids: Sequence[int]) -> list[Participant]:
        """Every study these numbers take part in, oldest first, in one query."""
        if not contact_ids:
            return []
        return await load(self.session, Participant, _FOR_CONTACTS, {"ids": list(contact_ids)})

    async def others_on_contact(self, contact_id: int, participant_id: int) -> list[Participant]:
        """The number's other participants (other studies) that were not erased, oldest first."""
        return [
            p
            for p in await self.for_contact(contact_id)
            if p.id != participant_id and takes_turns(p)
        ]

    async def in_study(self, study_id: str) -> list[Participant]:
        """Every participant of a study, oldest first."""
        statement = (
            select(Participant)
            .where(Participant.study_id == study_id)
            .order_by(col(Participant.id))
        )
        return list((await self.session.exec(statement)).all())

    async def references_and_hashes(
        self, study_id: str, *, references: Sequence[str], phone_hashes: Sequence[str]
    ) -> set[tuple[str, str]]:
        """(reference, phone hash) of the study's participants with one of these references
        or numbers: what a batch of invitations must agree with. A few queries per 500."""
        found: set[tuple[str, str]] = set()
        base = select(Participant.reference, Contact.phone_hash).join(
            Contact, col(Contact.id) == col(Participant.contact_id)
        )
        for column, values in (
            (col(Participant.reference), references),
            (col(Contact.phone_hash), phone_hashes),
        ):
            for start in range(0, len(values), _IN_CHUNK):
                statement = base.where(
                    Participant.study_id == study_id,
                    column.in_(values[start : start + _IN_CHUNK]),
                )
                found.update((await self.session.exec(statement)).all())
        return found

    async def study_ids(self, participant_ids: set[int]) -> dict[int, str]:
        """Participant id -> study id, in one query."""
        rows = await plain_rows(self.session, _STUDY_IDS, {"ids": sorted(participant_ids)})
        return dict(rows)

    async def save(self, participant: Participant, now: datetime) -> None:
        """Write back changes to the conversation, language or ledger head."""
        participant.updated_at = now
        keep(self.session, participant)

    async def consent_of(self, participant_ids: list[int]) -> dict[int, dict[str, PurposeConsent]]:
        """Current consent of several participants, by purpose, in one query.

        Read as plain values by a Core query, not as rows the session tracks: most turns
        change no consent, and the ledger loads the rows it changes itself. What this
        transaction changed is flushed first, as an ORM query would.
        """
        found: dict[int, dict[str, PurposeConsent]] = {pid: {} for pid in participant_ids}
        if not participant_ids:
            return found
        rows = await plain_rows(self.session, _CONSENT_OF, {"ids": list(participant_ids)})
        for participant_id, purpose_id, status, since, pending_since in rows:
            # A text that is no status: calling the enum raises its own ValueError.
            known = _STATUSES.get(status) or ConsentStatus(status)
            found[participant_id][purpose_id] = PurposeConsent(known, since, pending_since)
        return found

    async def consent(self, participant_id: int) -> list[ConsentState]:
        """Current consent rows (purposes never answered have none)."""
        statement = (
            select(ConsentState)
            .where(ConsentState.participant_id == participant_id)
            .order_by(col(ConsentState.purpose_id))
        )
        return list((await self.session.exec(statement)).all())


@dataclass(frozen=True, slots=True)
class ConsentHolder:
    """One participant's status for one purpose, and whether their number sent STOP."""

    participant_id: int
    purpose: str
    status: ConsentStatus
    stopped: bool
