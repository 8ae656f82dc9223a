"""Announcements and who has been queued each one: the record that makes a re-run resume."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.domain.outbox import OutboxStatus
from consentbot.domain.status import ConsentStatus
from consentbot.store.tables import (
    Announcement,
    AnnouncementRecipient,
    ConsentState,
    Contact,
    OutboxMessage,
    Participant,
)

UPDATES = "updates"
"""The purpose whose ``active`` consent lets a study send news and results."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """A participant to queue an announcement for."""

    participant_id: int
    contact_id: int
    language: str


class AnnouncementRepository:
    """Store announcements, find who is still to get one, and record who was queued."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, study_id: str, name: str) -> Announcement | None:
        """The announcement of ``study_id`` called ``name``, if it was ever started."""
        statement = select(Announcement).where(
            Announcement.study_id == study_id, Announcement.name == name
        )
        return (await self.session.exec(statement)).first()

    async def create(self, study_id: str, name: str, digest: str, now: datetime) -> Announcement:
        """Record a new announcement (the unique name makes a concurrent twin fail)."""
        announcement = Announcement(
            study_id=study_id, name=name, texts_digest=digest, created_at=now
        )
        self.session.add(announcement)
        await self.session.flush()
        return announcement

    async def still_to_queue(
        self, study_id: str, announcement_id: int | None, limit: int | None = None
    ) -> list[Recipient]:
        """Participants of ``study_id`` whose ``updates`` consent is active, not erased and not
        yet queued ``announcement_id`` (None: a new one), lowest id first."""
        statement = (
            select(Participant.id, Participant.contact_id, Participant.language)
            .join(Contact, col(Contact.id) == col(Participant.contact_id))
            .where(*self._wants_updates(study_id))
            .order_by(col(Participant.id))
        )
        if announcement_id is not None:
            statement = statement.where(~self._queued(announcement_id))
        if limit is not None:
            statement = statement.limit(limit)
        return [
            Recipient(pid or 0, contact_id, language)
            for pid, contact_id, language in (await self.session.exec(statement)).all()
        ]

    async def count_still_to_queue(
        self, study_id: str, announcement_id: int | None
    ) -> list[tuple[str, bool, int]]:
        """(language, stopped, how many) of those :meth:`still_to_queue` would give, counted
        by the database rather than read row by row."""
        statement = (
            select(Participant.language, Contact.stopped, func.count())
            .join(Contact, col(Contact.id) == col(Participant.contact_id))
            .where(*self._wants_updates(study_id))
            .group_by(col(Participant.language), col(Contact.stopped))
        )
        if announcement_id is not None:
            statement = statement.where(~self._queued(announcement_id))
        return [
            (language, stopped, count)
            for language, stopped, count in (await self.session.exec(statement)).all()
        ]

    async def lock_and_recheck(
        self, study_id: str, announcement_id: int, recipients: Sequence[Recipient]
    ) -> list[Recipient]:
        """Lock the recipients' numbers in id order (as a turn locks its number first, so
        a consent change waits for this group or this group for it), then keep those
        whose ``updates`` consent is still active now and who are still not queued."""
        if not recipients:
            return []
        contact_ids = sorted({r.contact_id for r in recipients})
        lock = select(Contact.id).where(col(Contact.id).in_(contact_ids)).order_by(col(Contact.id))
        await self.session.exec(lock.with_for_update())
        statement = (
            select(Participant.id)
            .join(Contact, col(Contact.id) == col(Participant.contact_id))
            .where(
                *self._wants_updates(study_id),
                col(Participant.id).in_([r.participant_id for r in recipients]),
                ~self._queued(announcement_id),
            )
        )
        still = set((await self.session.exec(statement)).all())
        return [r for r in recipients if r.participant_id in still]

    def record(
        self,
        announcement_id: int,
        participant_id: int,
        outbox_id: int,
        language: str,
        now: datetime,
    ) -> None:
        """Record that the participant's message is queued (same transaction as the message)."""
        self.session.add(
            AnnouncementRecipient(
                announcement_id=announcement_id,
                participant_id=participant_id,
                outbox_id=outbox_id,
                language=language,
                queued_at=now,
            )
        )

    async def queued_count(self, announcement_id: int) -> int:
        """How many participants this announcement was queued for."""
        statement = (
            select(func.count())
            .select_from(AnnouncementRecipient)
            .where(AnnouncementRecipient.announcement_id == announcement_id)
        )
        return (await self.session.exec(statement)).one()

    async def outcomes(self, announcement_id: int) -> Counter[OutboxStatus]:
        """The statuses of this announcement's messages, counted."""
        statement = (
            select(OutboxMessage.status, func.count())
            .join(
                AnnouncementRecipient,
                col(AnnouncementRecipient.outbox_id) == col(OutboxMessage.id),
            )
            .where(AnnouncementRecipient.announcement_id == announcement_id)
            .group_by(col(OutboxMessage.status))
        )
        return Counter(
            {
                OutboxStatus(status): count
                for status, count in (await self.session.exec(statement)).all()
            }
        )

    @staticmethod
    def _wants_updates(study_id: str) -> tuple[ColumnElement[bool], ...]:
        consent = (
            select(ConsentState.participant_id)
            .where(
                col(ConsentState.participant_id) == col(Participant.id),
                ConsentState.purpose_id == UPDATES,
                ConsentState.status == ConsentStatus.ACTIVE.value,
            )
            .exists()
        )
        return (
            col(Participant.study_id) == study_id,
            col(Participant.erased_at).is_(None),
            col(Contact.erased_at).is_(None),
            consent,
        )

    @staticmethod
    def _queued(announcement_id: int) -> ColumnElement[bool]:
        return (
            select(AnnouncementRecipient.participant_id)
            .where(
                AnnouncementRecipient.announcement_id == announcement_id,
                col(AnnouncementRecipient.participant_id) == col(Participant.id),
            )
            .exists()
        )
