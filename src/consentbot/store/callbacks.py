"""Call-back requests: added by a turn, listed and updated by the staff queue."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.callbacks import CallbackStatus
from consentbot.store.index_choice import NotFromIndex
from consentbot.store.plain_rows import plain_rows
from consentbot.store.tables import CallbackRequest, Participant, StaffUser

WAITING = (CallbackStatus.OPEN, CallbackStatus.CLAIMED)
"""Requests someone still has to act on."""

QueueRow = tuple[CallbackRequest, Participant, StaffUser | None]

_WAITING_AMONG = select(CallbackRequest.participant_id).where(
    col(CallbackRequest.participant_id).in_(bindparam("ids", expanding=True)),
    # Checked on each of these people's requests, not sought: for a group of fifty, SQLite
    # chose to read every waiting request through ix_callback_request_queue instead.
    NotFromIndex(col(CallbackRequest.status)).in_(WAITING),
)


class CallbackRepository:
    """Read and write ``callback_request`` rows in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def waiting_among(self, participant_ids: Collection[int]) -> set[int]:
        """Which of ``participant_ids`` have a request still open or claimed."""
        if not participant_ids:
            return set()
        rows = await plain_rows(self.session, _WAITING_AMONG, {"ids": list(participant_ids)})
        return {participant_id for (participant_id,) in rows}

    async def request(self, study_id: str, participant_id: int, now: datetime) -> CallbackRequest:
        """Queue a new open request."""
        row = CallbackRequest(
            study_id=study_id,
            participant_id=participant_id,
            requested_at=now,
            status=CallbackStatus.OPEN,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def waiting(
        self, study_ids: Collection[str] | None, organisation: str | None = None
    ) -> Sequence[QueueRow]:
        """Open and claimed requests, oldest first; of ``study_ids`` only, unless None (all),
        and of people ``organisation`` helps only, unless None (anyone's)."""
        claimer = aliased(StaffUser)
        statement = (
            select(CallbackRequest, Participant, claimer)
            .join(Participant, col(Participant.id) == col(CallbackRequest.participant_id))
            .outerjoin(claimer, col(claimer.id) == col(CallbackRequest.claimed_by))
            .where(col(CallbackRequest.status).in_(WAITING))
            .order_by(col(CallbackRequest.requested_at), col(CallbackRequest.id))
        )
        if study_ids is not None:
            statement = statement.where(col(CallbackRequest.study_id).in_(study_ids))
        if organisation is not None:
            statement = statement.where(Participant.organisation == organisation)
        rows = (await self.session.exec(statement)).all()
        return [(request, participant, user) for request, participant, user in rows]

    async def get(self, request_id: int) -> CallbackRequest | None:
        """One request, locked for update (two staff claiming at once: one wins)."""
        statement = (
            select(CallbackRequest).where(CallbackRequest.id == request_id).with_for_update()
        )
        return (await self.session.exec(statement)).first()

    async def organisation_of(self, request: CallbackRequest) -> str | None:
        """The organisation that helps the person who asked (None: no organisation)."""
        statement = select(Participant.organisation).where(Participant.id == request.participant_id)
        return (await self.session.exec(statement)).first()

    def save(self, row: CallbackRequest) -> None:
        """Stage a changed request."""
        self.session.add(row)
