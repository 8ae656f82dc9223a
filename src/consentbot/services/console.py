"""The study console: how one study is going, for its study team and for admins.

Every count a page shows has passed small-number suppression (domain/suppression.py).
The CSV export is the one place references appear; it never holds a phone number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.live import LiveCatalogue
from consentbot.content.model import Study
from consentbot.domain.staff import StaffRole
from consentbot.domain.status import ConsentStatus
from consentbot.domain.suppression import (
    Count,
    SuppressedTable,
    part_of,
    primary,
    suppress_table,
)
from consentbot.domain.transitions import ConsentAction
from consentbot.services.clock import Clock
from consentbot.services.staff_login import StaffIdentity
from consentbot.store.callbacks import CallbackRepository
from consentbot.store.console import ConsoleRepository, OutboxProblem, StateRow
from consentbot.store.database import Database
from consentbot.store.webhooks import WebhookRepository

log = structlog.get_logger(__name__)

WEEKS = 12
"""How many weeks the weekly chart covers, ending with the current one."""


class StudyNotVisible(Exception):
    """The staff member may not see this study (whether or not it exists)."""


class StudyNotFound(Exception):
    """No such study, told only to someone who may see every study (an admin)."""


class FunnelStage(StrEnum):
    """The steps from invitation to an outcome, in order."""

    INVITED = "invited"
    READ = "read"
    ANSWERED = "answered"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    RECONSENT_REQUIRED = "reconsent_required"


OUTCOMES: Mapping[FunnelStage, ConsentStatus] = {
    FunnelStage.CONFIRMED: ConsentStatus.ACTIVE,
    FunnelStage.DECLINED: ConsentStatus.DECLINED,
    FunnelStage.WITHDRAWN: ConsentStatus.WITHDRAWN,
    FunnelStage.EXPIRED: ConsentStatus.EXPIRED,
    FunnelStage.RECONSENT_REQUIRED: ConsentStatus.RECONSENT_REQUIRED,
}
"""The funnel's outcomes: participants with at least one purpose in that status (a person
can be in more than one: yes to one purpose, no to another)."""

CHART_ACTIONS = (ConsentAction.CONFIRM, ConsentAction.WITHDRAW)
"""What the weekly chart counts: confirmations and withdrawals."""


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Participants by purpose (rows) and status (columns), with totals, suppressed."""

    purposes: tuple[str, ...]
    statuses: tuple[ConsentStatus, ...]
    table: SuppressedTable


@dataclass(frozen=True, slots=True)
class Week:
    """One week of the chart (Monday to Sunday in the study's time zone)."""

    starts: date
    confirmed: Count
    withdrawn: Count


@dataclass(frozen=True, slots=True)
class Problems:
    """What needs a person."""

    outbox: tuple[OutboxProblem, ...]
    callbacks_waiting: int = 0
    """Call-back requests nobody has finished yet (open or claimed)."""
    webhook_failures: int = 0
    """Consent changes a webhook of the study never accepted (given up after 3 days):
    ``consentbot webhook status`` names the webhook."""

    @property
    def any(self) -> bool:
        """Whether anything needs a person."""
        return bool(self.outbox) or self.callbacks_waiting > 0 or self.webhook_failures > 0


@dataclass(frozen=True, slots=True)
class ConsoleView:
    """Everything the console page shows for one study."""

    study: Study
    counts: StatusCounts
    funnel: tuple[tuple[FunnelStage, Count], ...]
    weeks: tuple[Week, ...]
    problems: Problems


def may_see(identity: StaffIdentity, study_id: str) -> bool:
    """Admins see every study; a study team only its own; community workers none."""
    if identity.role is StaffRole.ADMIN:
        return True
    return identity.role is StaffRole.STUDY_TEAM and study_id in identity.studies


async def problems(session: AsyncSession, study_id: str) -> Problems:
    """Everything about ``study_id`` that needs a person: one place to add new kinds."""
    return Problems(
        outbox=tuple(await ConsoleRepository(session).outbox_problems(study_id)),
        callbacks_waiting=len(await CallbackRepository(session).waiting([study_id])),
        webhook_failures=await WebhookRepository(session).failed_for_study(study_id),
    )


def week_start(moment: datetime, zone: ZoneInfo) -> date:
    """The Monday of the week ``moment`` falls in, in ``zone``."""
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


class StudyConsole:
    """Counts, funnel, weekly chart, problems and the export for one study at a time."""

    def __init__(self, db: Database, clock: Clock, studies: LiveCatalogue) -> None:
        self.db = db
        self.clock = clock
        self.studies = studies

    def _study(self, identity: StaffIdentity, study_id: str) -> Study:
        if not may_see(identity, study_id):
            raise StudyNotVisible(study_id)
        study = self.studies.get(study_id)
        if study is None:
            raise StudyNotFound(study_id)
        return study

    async def view(self, identity: StaffIdentity, study_id: str) -> ConsoleView:
        """The console of ``study_id`` (raises :class:`StudyNotVisible`, :class:`StudyNotFound`)."""
        study = self._study(identity, study_id)
        async with self.db.read() as session:
            repo = ConsoleRepository(session)
            invited = await repo.participants(study_id)
            recorded = await repo.status_counts(study_id)
            # Read and answered are parts of invited, which is shown: the people who did
            # not read (or answer) must not be a small count anyone can subtract.
            funnel = [
                (FunnelStage.INVITED, primary(invited)),
                (FunnelStage.READ, part_of(invited, await repo.read(study_id))),
                (FunnelStage.ANSWERED, part_of(invited, await repo.answered(study_id))),
            ]
            for stage, status in OUTCOMES.items():
                funnel.append((stage, primary(await repo.participants_in(study_id, status))))
            events = await repo.events(study_id, CHART_ACTIONS)
            found = await problems(session, study_id)
        return ConsoleView(
            study=study,
            counts=_status_counts(study, invited, recorded),
            funnel=tuple(funnel),
            weeks=self._weeks(study.timezone, events),
            problems=found,
        )

    def _weeks(
        self, zone: ZoneInfo, events: list[tuple[datetime, ConsentAction]]
    ) -> tuple[Week, ...]:
        this_week = week_start(self.clock(), zone)
        starts = [this_week - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
        tally = Counter((week_start(at, zone), action) for at, action in events)
        # Each week's two counts stand alone (no totals are shown), so primary suppression
        # is enough: nothing on the page adds them up.
        return tuple(
            Week(
                start,
                primary(tally[start, ConsentAction.CONFIRM]),
                primary(tally[start, ConsentAction.WITHDRAW]),
            )
            for start in starts
        )

    async def export(self, identity: StaffIdentity, study_id: str) -> list[StateRow]:
        """Every recorded consent state of the study, pseudonymous (references, no numbers)."""
        self._study(identity, study_id)
        async with self.db.read() as session:
            rows = await ConsoleRepository(session).states(study_id)
        # The access log holds views of one participant; an export is of many, so it is
        # logged here as one event (who, which study, how many rows), never the rows.
        log.info(
            "staff.console_exported",
            staff_user_id=identity.user_id,
            study=study_id,
            rows=len(rows),
            reason="export",
        )
        return rows


def _status_counts(
    study: Study, invited: int, recorded: Mapping[tuple[str, ConsentStatus], int]
) -> StatusCounts:
    """The purpose by status table. A participant with no row for a purpose has not answered
    it: they count as ``none``, so each purpose's row adds up to everyone invited."""
    purposes = study.purpose_ids
    statuses = tuple(ConsentStatus)
    cells = []
    for purpose in purposes:
        row = [recorded.get((purpose, status), 0) for status in statuses]
        row[statuses.index(ConsentStatus.NONE)] += invited - sum(row)
        cells.append(row)
    return StatusCounts(purposes, statuses, suppress_table(cells, known_row_totals=True))
