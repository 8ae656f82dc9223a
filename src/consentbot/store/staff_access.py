"""The staff access log: written once per view of a participant, never changed or deleted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.staff import AccessReason
from consentbot.store.tables import StaffAccessLog, StaffUser


class StaffAccessRepository:
    """Append to and read the access log. There is deliberately no update or delete."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def append(
        self, staff_user_id: int, participant_id: int, reason: AccessReason, now: datetime
    ) -> None:
        """Record one view of a participant (in the caller's transaction)."""
        self.session.add(
            StaffAccessLog(
                staff_user_id=staff_user_id,
                participant_id=participant_id,
                reason=reason,
                occurred_at=now,
            )
        )

    async def newest(
        self, limit: int, staff_user_id: int | None = None
    ) -> Sequence[tuple[StaffAccessLog, StaffUser]]:
        """The latest entries with their staff account, newest first."""
        statement = (
            select(StaffAccessLog, StaffUser)
            .join(StaffUser, col(StaffUser.id) == col(StaffAccessLog.staff_user_id))
            .order_by(col(StaffAccessLog.id).desc())
            .limit(limit)
        )
        if staff_user_id is not None:
            statement = statement.where(StaffAccessLog.staff_user_id == staff_user_id)
        return (await self.session.exec(statement)).all()
