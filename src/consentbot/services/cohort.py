"""Invite a cohort: check every row first, store nothing while any is bad, then invite.

Shared by ``consentbot invite --file`` and ``POST .../invitations/batch``. The whole
cohort is stored in one transaction of a few batched statements, each person with an
invitation timer due at once (:meth:`InvitationService.invite_many`); the scheduler then
runs each invitation through the turn pipeline, as :meth:`InvitationService.invite` does,
and the outbox sends at the send rate. Nothing stored is lost to a crash or a Ctrl-C:
the timers wait in the database until they have run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from consentbot.content.model import Study
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.timers import TimerKind
from consentbot.services.cohort_file import CohortRow, RowProblem
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import InvalidInput
from consentbot.services.invitations import Invitation, InvitationRequest, InvitationService
from consentbot.services.timers import TimerService
from consentbot.store.outbox import OutboxRepository
from consentbot.store.participants import ParticipantRepository
from consentbot.store.timers import TimerRepository


@dataclass(frozen=True, slots=True)
class CohortPlan:
    """What inviting a checked cohort will do."""

    study: Study
    new: tuple[InvitationRequest, ...]
    """People not yet in the study, in the order given."""
    already_invited: int
    """Rows whose reference is already in the study with the same number: skipped."""
    problems: tuple[RowProblem, ...]
    """Every bad row; while there is one, nothing may be stored."""


def check_rows(
    rows: Sequence[CohortRow],
    check: Callable[[CohortRow], InvitationRequest],
    position_name: str,
) -> tuple[list[tuple[CohortRow, InvitationRequest]], list[RowProblem]]:
    """Check each row's values with ``check`` and find references or numbers given twice.

    ``position_name`` ("line", "invitation") says where the first of two equal rows is.
    """
    checked: list[tuple[CohortRow, InvitationRequest]] = []
    problems: list[RowProblem] = []
    references: dict[str, int] = {}
    numbers: dict[str, int] = {}
    for row in rows:
        try:
            request = check(row)
        except InvalidInput as error:
            problems.append(RowProblem(row.position, error.field, error.message))
            continue
        if (first := references.get(request.reference)) is not None:
            problems.append(
                RowProblem(row.position, "reference", f"the same as {position_name} {first}")
            )
        elif (first := numbers.get(request.e164)) is not None:
            problems.append(
                RowProblem(row.position, "phone", f"the same number as {position_name} {first}")
            )
        else:
            references[request.reference] = numbers[request.e164] = row.position
            checked.append((row, request))
    return checked, problems


class CohortInvitations:
    """Plan and carry out the invitation of many people to one study."""

    def __init__(
        self, deps: ServiceDeps, invitations: InvitationService, timers: TimerService
    ) -> None:
        self.deps = deps
        self.invitations = invitations
        self.timers = timers

    async def plan(
        self, study_id: str, rows: Sequence[CohortRow], position_name: str
    ) -> CohortPlan:
        """Check every row, against the study and against who is already in it.

        Raises :class:`UnknownStudy`. Reads only: nothing is stored.
        """
        study = self.invitations.study(study_id)

        def check(row: CohortRow) -> InvitationRequest:
            return self.invitations.check(
                study, phone=row.phone, reference=row.reference, language=row.language
            )

        checked, problems = check_rows(rows, check, position_name)
        new, already, conflicts = await self._against_the_study(study, checked)
        ordered = sorted([*problems, *conflicts], key=lambda problem: problem.position)
        return CohortPlan(study, tuple(new), already, tuple(ordered))

    async def _against_the_study(
        self, study: Study, checked: list[tuple[CohortRow, InvitationRequest]]
    ) -> tuple[list[InvitationRequest], int, list[RowProblem]]:
        vault = self.deps.vault
        hashes = {request.e164: set(vault.lookup_hashes(request.e164)) for _, request in checked}
        async with self.deps.db.read() as session:
            stored = await ParticipantRepository(session).references_and_hashes(
                study.id,
                references=[request.reference for _, request in checked],
                phone_hashes=sorted({h for found in hashes.values() for h in found}),
            )
        number_of: dict[str, set[str]] = {}
        reference_of: dict[str, str] = {}
        for reference, phone_hash in stored:
            number_of.setdefault(reference, set()).add(phone_hash)
            reference_of[phone_hash] = reference
        new: list[InvitationRequest] = []
        problems: list[RowProblem] = []
        already = 0
        for row, request in checked:
            mine = hashes[request.e164]
            theirs = number_of.get(request.reference)
            other = next((reference_of[h] for h in mine if h in reference_of), None)
            if theirs is not None and not theirs & mine:
                error = "is already used in this study for a different phone number"
                problems.append(RowProblem(row.position, "reference", error))
            elif other is not None and other != request.reference:
                error = f"this number is already in the study as {other}"
                problems.append(RowProblem(row.position, "phone", error))
            elif theirs is not None:
                already += 1
            else:
                new.append(request)
        return new, already, problems

    async def invite(self, plan: CohortPlan) -> list[Invitation]:
        """Store everyone new in ``plan`` with their invitation due now, in one transaction.

        Raises :class:`Conflict` (and stores nothing) if the database changed since the
        plan: another batch at the same time. The scheduler (or ``invite --file`` itself,
        see :meth:`send_due`) then sends the invitations through the turn pipeline.
        """
        if not plan.new:
            return []
        return await self.invitations.invite_many(plan.study, plan.new)

    async def waiting(self, study_id: str) -> list[int]:
        """The participants whose invitation is stored and not yet sent to the outbox."""
        async with self.deps.db.read() as session:
            return await TimerRepository(session).pending_participants(
                TimerKind.INVITATION, study_id
            )

    async def send_due(self, study_id: str, limit: int) -> int:
        """Run up to ``limit`` of the study's stored invitations through the turn pipeline,
        oldest first; how many ran. (The running service's scheduler does the same.)"""
        return await self.timers.run_due(kind=TimerKind.INVITATION, study_id=study_id, limit=limit)

    async def invitation_outcomes(self, participant_ids: Sequence[int]) -> Counter[Delivery]:
        """How many of these participants' invitations went, were stopped, wait or failed
        (a long invitation is several SMS: it counts once, by its least advanced part)."""
        async with self.deps.db.read() as session:
            found = await OutboxRepository(session).statuses(participant_ids, OutboxKind.INVITATION)
        parts: dict[int, set[OutboxStatus]] = {}
        for participant, status in found:
            parts.setdefault(participant, set()).add(status)
        return Counter(delivery_of(statuses) for statuses in parts.values())


class Delivery(StrEnum):
    """What became of one person's invitation, for a summary."""

    SENT = "sent"
    STOPPED = "stopped"
    """Recorded, not sent: the number has sent STOP."""
    WAITING = "waiting"
    """Still queued: quiet hours, or a retry after the gateway was busy."""
    FAILED = "failed"


def delivery_of(statuses: set[OutboxStatus]) -> Delivery:
    """One invitation's outcome from the statuses of its parts."""
    if statuses & {OutboxStatus.PENDING, OutboxStatus.SENDING}:
        return Delivery.WAITING
    if statuses & {OutboxStatus.SUPPRESSED, OutboxStatus.OPTED_OUT}:
        return Delivery.STOPPED
    if statuses == {OutboxStatus.SENT}:
        return Delivery.SENT
    return Delivery.FAILED
