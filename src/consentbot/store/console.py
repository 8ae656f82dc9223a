"""The study console's queries: counts and lists for one study, never a phone number.

Every query is scoped to one study; aggregation is done in SQL where it is plain
(group by), and in the service where it needs the study's time zone (weeks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.status import ConsentStatus
from consentbot.domain.transitions import ConsentAction
from consentbot.store.tables import ConsentEvent, ConsentState, OutboxMessage, Participant


@dataclass(frozen=True, slots=True)
class StateRow:
    """One participant's status for one purpose, as the CSV export gives it."""

    reference: str
    purpose_id: str
    status: ConsentStatus
    since: datetime
    content_version: int


@dataclass(frozen=True, slots=True)
class OutboxProblem:
    """A message that needs a person: failed, or may or may not have gone. No body, no number."""

    id: int
    kind: OutboxKind
    status: OutboxStatus
    created_at: datetime
    error_code: str | None


class ConsoleRepository:
    """Read-only queries over one study's participants, consent and outbox."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def participants(self, study_id: str) -> int:
        """How many people were invited to (or joined) the study, erased ones included."""
        statement = select(func.count()).select_from(Participant)
        statement = statement.where(Participant.study_id == study_id)
        return int((await self.session.exec(statement)).one())

    async def read(self, study_id: str) -> int:
        """How many participants have opened at least one topic (``first_read_at`` is set)."""
        statement = select(func.count()).select_from(Participant)
        statement = statement.where(
            Participant.study_id == study_id, col(Participant.first_read_at).is_not(None)
        )
        return int((await self.session.exec(statement)).one())

    async def status_counts(self, study_id: str) -> dict[tuple[str, ConsentStatus], int]:
        """How many participants have each (purpose, status) recorded in consent_state."""
        statement = (
            select(ConsentState.purpose_id, ConsentState.status, func.count())
            .join(Participant, col(Participant.id) == col(ConsentState.participant_id))
            .where(Participant.study_id == study_id)
            .group_by(col(ConsentState.purpose_id), col(ConsentState.status))
        )
        rows = (await self.session.exec(statement)).all()
        return {(purpose, ConsentStatus(status)): int(n) for purpose, status, n in rows}

    async def participants_in(self, study_id: str, status: ConsentStatus) -> int:
        """How many participants have at least one purpose in ``status``."""
        statement = (
            select(func.count(func.distinct(ConsentState.participant_id)))
            .join(Participant, col(Participant.id) == col(ConsentState.participant_id))
            .where(Participant.study_id == study_id, ConsentState.status == status.value)
        )
        return int((await self.session.exec(statement)).one())

    async def answered(self, study_id: str) -> int:
        """How many participants ever answered a question (yes or no), from the ledger."""
        answers = (ConsentAction.ANSWER_YES.value, ConsentAction.ANSWER_NO.value)
        statement = select(func.count(func.distinct(ConsentEvent.participant_id))).where(
            ConsentEvent.study_id == study_id, col(ConsentEvent.action).in_(answers)
        )
        return int((await self.session.exec(statement)).one())

    async def events(
        self, study_id: str, actions: Sequence[ConsentAction]
    ) -> list[tuple[datetime, ConsentAction]]:
        """When each ledger event with one of ``actions`` happened (for the weekly chart)."""
        statement = select(ConsentEvent.occurred_at, ConsentEvent.action).where(
            ConsentEvent.study_id == study_id,
            col(ConsentEvent.action).in_([action.value for action in actions]),
        )
        rows = (await self.session.exec(statement)).all()
        return [(occurred, ConsentAction(action)) for occurred, action in rows]

    async def states(self, study_id: str) -> list[StateRow]:
        """Every recorded consent state of the study, by reference then purpose."""
        statement = (
            select(Participant.reference, ConsentState)
            .join(Participant, col(Participant.id) == col(ConsentState.participant_id))
            .where(Participant.study_id == study_id)
            .order_by(col(Participant.reference), col(ConsentState.purpose_id))
        )
        return [
            StateRow(
                reference,
                state.purpose_id,
                ConsentStatus(state.status),
                state.since,
                state.content_version,
            )
            for reference, state in (await self.session.exec(statement)).all()
        ]

    async def outbox_problems(self, study_id: str) -> list[OutboxProblem]:
        """The study's messages that failed or are ``unknown``, oldest first."""
        statement = (
            select(OutboxMessage)
            .join(Participant, col(Participant.id) == col(OutboxMessage.participant_id))
            .where(
                Participant.study_id == study_id,
                col(OutboxMessage.status).in_([OutboxStatus.FAILED, OutboxStatus.UNKNOWN]),
            )
            .order_by(col(OutboxMessage.id))
        )
        return [
            OutboxProblem(
                message.id or 0,
                message.kind,
                message.status,
                message.created_at,
                message.error_code,
            )
            for message in (await self.session.exec(statement)).all()
        ]
