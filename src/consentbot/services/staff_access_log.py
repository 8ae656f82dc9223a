"""The staff access log: every staff view of a participant, with who, when and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.staff import AccessReason
from consentbot.services.clock import Clock
from consentbot.store.database import Database
from consentbot.store.staff_access import StaffAccessRepository
from consentbot.store.staff_accounts import StaffAccountRepository

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One line of the access log, as admins read it."""

    occurred: datetime
    staff_email: str
    participant_id: int
    reason: AccessReason


def record_access(
    session: AsyncSession,
    staff_user_id: int,
    participant_id: int,
    reason: AccessReason,
    now: datetime,
) -> None:
    """Log a view of a participant in the caller's transaction: the view and its log entry
    are committed together or not at all (staff views call this before showing anything)."""
    StaffAccessRepository(session).append(staff_user_id, participant_id, reason, now)
    log.info(
        "staff.participant_viewed",
        staff_user_id=staff_user_id,
        participant_id=participant_id,
        reason=reason.value,
    )


class StaffAccessLog:
    """Write the access log on its own, and read it (admins: the CLI and the staff API)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, staff_user_id: int, participant_id: int, reason: AccessReason) -> None:
        """Log one view of a participant in a transaction of its own."""
        async with self.db.transaction() as session:
            record_access(session, staff_user_id, participant_id, reason, self.clock())

    async def newest(self, limit: int = 100, staff_email: str | None = None) -> list[AccessEntry]:
        """The latest entries, newest first; only ``staff_email``'s when given (none if unknown)."""
        async with self.db.read() as session:
            user_id: int | None = None
            if staff_email is not None:
                user = await StaffAccountRepository(session).by_email(staff_email.strip().lower())
                if user is None or user.id is None:
                    return []
                user_id = user.id
            rows = await StaffAccessRepository(session).newest(limit, user_id)
        return [
            AccessEntry(entry.occurred_at, user.email, entry.participant_id, entry.reason)
            for entry, user in rows
        ]
