"""What research systems read: a participant's consent today, and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import UnknownParticipant, UnknownStudy
from consentbot.store.ledger import LedgerRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import ConsentEvent


@dataclass(frozen=True, slots=True)
class PurposeView:
    """One purpose's consent as the API shows it."""

    status: str
    since: datetime | None
    content_version: int | None
    withdrawal_level: str | None = None
    """How far a withdrawal goes (only on ``withdrawn``)."""


@dataclass(frozen=True, slots=True)
class ConsentView:
    """Every purpose of a study for one participant (unanswered ones as ``none``)."""

    study: str
    participant: str
    purposes: dict[str, PurposeView]


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One ledger event as research systems see it: plain data, no table row."""

    seq: int
    purpose: str
    action: str
    from_status: str
    to_status: str
    withdrawal_level: str | None
    content_version: int
    content_digest: str
    language: str
    channel: str
    actor: str
    auth: str | None
    assisted_by: str | None
    confirmed_via: str | None
    at: datetime
    hash: str
    prev_hash: str

    @classmethod
    def of(cls, event: ConsentEvent) -> HistoryEvent:
        """The view of a stored event."""
        return cls(
            seq=event.seq,
            purpose=event.purpose_id,
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            withdrawal_level=event.withdrawal_level,
            content_version=event.content_version,
            content_digest=event.content_digest,
            language=event.language,
            channel=event.channel,
            actor=event.actor,
            auth=event.auth.value if event.auth else None,
            assisted_by=event.assisted_by,
            confirmed_via=event.confirmed_via,
            at=event.occurred_at,
            hash=event.hash,
            prev_hash=event.prev_hash,
        )


@dataclass(frozen=True, slots=True)
class ParticipantSummary:
    """One participant in a study's list: never a phone number."""

    reference: str
    joined_by: str
    created: datetime


class ConsentQueries:
    """Read-only views for the research API."""

    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    async def consent(self, study_id: str, reference: str) -> ConsentView:
        """Current consent of ``reference`` in ``study_id``."""
        study = self.deps.studies.get(study_id)
        if study is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        async with self.deps.db.read() as session:
            participants = ParticipantRepository(session)
            participant = await participants.by_reference(study_id, reference)
            if participant is None or participant.id is None:
                raise UnknownParticipant(f"no participant {reference!r} in study {study_id!r}")
            states = {
                state.purpose_id: state for state in await participants.consent(participant.id)
            }
        purposes = {}
        for purpose_id in (purpose.id for purpose in study.purposes):
            state = states.get(purpose_id)
            purposes[purpose_id] = (
                PurposeView(
                    state.status, state.since, state.content_version, state.withdrawal_level
                )
                if state
                else PurposeView("none", None, None)
            )
        return ConsentView(study_id, reference, purposes)

    async def history(self, study_id: str, reference: str) -> list[HistoryEvent]:
        """The participant's ledger events, oldest first."""
        if self.deps.studies.get(study_id) is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        async with self.deps.db.read() as session:
            participant = await ParticipantRepository(session).by_reference(study_id, reference)
            if participant is None or participant.id is None:
                raise UnknownParticipant(f"no participant {reference!r} in study {study_id!r}")
            events = await LedgerRepository(session).history(participant.id)
        return [HistoryEvent.of(event) for event in events]

    async def participants(self, study_id: str) -> list[ParticipantSummary]:
        """Every participant of ``study_id``, oldest first."""
        if self.deps.studies.get(study_id) is None:
            raise UnknownStudy(f"there is no study {study_id!r}")
        async with self.deps.db.read() as session:
            found = await ParticipantRepository(session).in_study(study_id)
        return [ParticipantSummary(p.reference, p.joined_by, p.created_at) for p in found]
