"""Who a published change still has to reach, and a claim that it reached them once.

A version's ``changes`` concern each participant whose consent for a changed purpose is
still a yes (pending or active) given under an older version, and to whom the change
was not applied yet (no :class:`StudyChangeApplied` row for that version). The query is
the durable record of the work left: whatever stopped a run, asking again finds the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import exists, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from consentbot.domain.status import ConsentStatus
from consentbot.store.participants import ConsentHolder
from consentbot.store.tables import ConsentState, Contact, Participant, StudyChangeApplied


class StudyChangeRepository:
    """The participants a version's change has still to reach, inside the caller's transaction."""

    def __init__(
        self,
        session: AsyncSession,
        study_id: str,
        version: int,
        purposes: Sequence[str],
        statuses: Collection[ConsentStatus],
    ) -> None:
        self.session = session
        self.study_id = study_id
        self.version = version
        self.purposes = list(purposes)
        self.statuses = [status.value for status in statuses]

    def _waiting(self) -> SelectOfScalar[int] | SelectOfScalar[None]:
        """Participant ids still to reach (a consent row per changed purpose may match)."""
        applied = exists().where(
            col(StudyChangeApplied.participant_id) == col(Participant.id),
            col(StudyChangeApplied.version) == self.version,
        )
        return (
            select(Participant.id)
            .join(ConsentState, col(ConsentState.participant_id) == col(Participant.id))
            .where(
                Participant.study_id == self.study_id,
                col(Participant.erased_at).is_(None),
                col(ConsentState.purpose_id).in_(self.purposes),
                col(ConsentState.status).in_(self.statuses),
                col(ConsentState.content_version) < self.version,
                ~applied,
            )
        )

    async def next_group(self, after: int, size: int) -> list[int]:
        """Up to ``size`` participant ids still to reach, above ``after``, in id order."""
        statement = (
            self._waiting()
            .where(col(Participant.id) > after)
            .group_by(col(Participant.id))
            .order_by(col(Participant.id))
            .limit(size)
        )
        return [pid for pid in (await self.session.exec(statement)).all() if pid is not None]

    async def count(self) -> int:
        """How many participants are still to reach."""
        statement = select(func.count()).select_from(self._waiting().distinct().subquery())
        return int((await self.session.exec(statement)).one())

    async def holders(self, participant_ids: Sequence[int]) -> list[ConsentHolder]:
        """Of these participants, each changed purpose's consent that is still to reach,
        read now (call with their contacts locked to act on it)."""
        if not participant_ids:
            return []
        statement = (
            select(
                ConsentState.participant_id,
                ConsentState.purpose_id,
                ConsentState.status,
                Contact.stopped,
            )
            .join(Participant, col(Participant.id) == col(ConsentState.participant_id))
            .join(Contact, col(Contact.id) == col(Participant.contact_id))
            .where(
                col(Participant.id).in_(list(participant_ids)),
                col(Participant.id).in_(self._waiting()),
                col(ConsentState.purpose_id).in_(self.purposes),
                col(ConsentState.status).in_(self.statuses),
                col(ConsentState.content_version) < self.version,
            )
            .order_by(col(ConsentState.participant_id), col(ConsentState.purpose_id))
            .execution_options(populate_existing=True)
        )
        rows = (await self.session.exec(statement)).all()
        return [
            ConsentHolder(pid, purpose, ConsentStatus(status), stopped)
            for pid, purpose, status, stopped in rows
        ]

    async def people(self, participant_ids: Sequence[int]) -> list[tuple[Participant, Contact]]:
        """These participants and their numbers, in id order, read without locking."""
        if not participant_ids:
            return []
        statement = (
            select(Participant, Contact)
            .join(Contact, col(Contact.id) == col(Participant.contact_id))
            .where(col(Participant.id).in_(list(participant_ids)))
            .order_by(col(Participant.id))
        )
        return [
            (participant, contact) for participant, contact in await self.session.exec(statement)
        ]

    async def claim(self, participant_id: int, now: datetime) -> bool:
        """Record that the change reaches ``participant_id``; False if it already had.

        An insert that does nothing on a clash: a second process claiming the same person
        waits for the first one's commit on PostgreSQL, then gets False.
        """
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(StudyChangeApplied)
            .values(participant_id=participant_id, version=self.version, applied_at=now)
            .on_conflict_do_nothing()
        )
        result = await self.session.exec(statement)
        return bool(result.rowcount)
