"""At send time, an announcement still needs its ``updates`` consent.

An announcement can wait in the outbox for hours (quiet hours, the send rate, a busy
gateway). Someone who withdraws ``updates`` meanwhile must not get it: the dispatcher
settles such a message as ``not-wanted`` instead of sending it.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.status import ConsentStatus
from consentbot.store.announcements import UPDATES
from consentbot.store.outbox import ClaimedMessage, OutboxRepository
from consentbot.store.tables import ConsentState


async def drop_unwanted_announcements(
    session: AsyncSession, claimed: list[ClaimedMessage]
) -> list[ClaimedMessage]:
    """``claimed`` without the announcements whose participant's ``updates`` is no longer
    active; those are settled as ``not-wanted`` in the caller's transaction."""
    announcements = [
        item
        for item in claimed
        if item.message.kind == OutboxKind.ANNOUNCEMENT and item.message.participant_id
    ]
    if not announcements:
        return claimed
    statement = select(ConsentState.participant_id).where(
        col(ConsentState.participant_id).in_(
            {item.message.participant_id for item in announcements}
        ),
        ConsentState.purpose_id == UPDATES,
        ConsentState.status == ConsentStatus.ACTIVE.value,
    )
    wanted = set((await session.exec(statement)).all())
    dropped = {
        item.message.id for item in announcements if item.message.participant_id not in wanted
    }
    await OutboxRepository(session).settle(list(dropped), OutboxStatus.NOT_WANTED)
    return [item for item in claimed if item.message.id not in dropped]
