"""The call-back queue staff work from: list, claim, and finish with an outcome.

Who sees what (docs/staff.md): a study team sees its own studies' requests, admins and
community workers see every study's. A phone number is shown only to the member of staff
who claimed the request, and each time it is shown the access log records it
(reason "call-back"). Nothing here touches consent: a call that leads to a change goes on
to an assisted session or the person's own phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from consentbot.domain.callbacks import CallbackOutcome, CallbackStatus
from consentbot.domain.staff import AccessReason, StaffRole
from consentbot.services.clock import Clock
from consentbot.services.errors import Conflict, ServiceError
from consentbot.services.staff_access_log import record_access
from consentbot.services.staff_login import StaffIdentity
from consentbot.store.callbacks import CallbackRepository
from consentbot.store.contacts import ContactRepository
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.tables import CallbackRequest

log = structlog.get_logger(__name__)

NOTE_LIMIT = 1000


class UnknownCallback(ServiceError):
    """No waiting request with that id that this member of staff may see."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One request as the queue page shows it."""

    id: int
    reference: str
    study_id: str
    language: str
    requested_at: datetime
    status: CallbackStatus
    claimed_by: str | None
    """The email of who claimed it."""
    mine: bool
    """Claimed by the member of staff looking."""
    phone: str | None
    """Only when ``mine``: the number to call."""


@dataclass(frozen=True, slots=True)
class QueueScope:
    """Which requests a member of staff may see."""

    studies: tuple[str, ...] | None
    """Only these studies' requests; None: every study's."""
    organisation: str | None
    """Only requests of people this organisation helps; None: anyone's."""


def scope_of(identity: StaffIdentity) -> QueueScope:
    """A study team sees its studies' requests; a community worker those of the people
    their organisation helps (:mod:`consentbot.domain.helping`); an admin every request."""
    if identity.role is StaffRole.STUDY_TEAM:
        return QueueScope(identity.studies, None)
    if identity.role is StaffRole.COMMUNITY_WORKER:
        # A worker without an organisation (never created so) would see no one's.
        return QueueScope(None, identity.organisation or "")
    return QueueScope(None, None)


class CallbackQueue:
    """The staff side of call-backs."""

    def __init__(self, db: Database, vault: PhoneVault, clock: Clock) -> None:
        self.db = db
        self.vault = vault
        self.clock = clock

    async def waiting(self, identity: StaffIdentity) -> list[QueueEntry]:
        """Open and claimed requests ``identity`` may see, oldest first.

        Showing a claimer their numbers is a view of those participants: it is logged in
        the same transaction, so nothing is shown that is not logged.
        """
        now = self.clock()
        scope = scope_of(identity)
        entries = []
        async with self.db.transaction() as session:
            contacts = ContactRepository(session, self.vault)
            rows = await CallbackRepository(session).waiting(scope.studies, scope.organisation)
            for request, participant, claimer in rows:
                assert request.id is not None
                assert participant.id is not None
                mine = request.claimed_by == identity.user_id
                phone = None
                if mine:
                    contact = await contacts.get(participant.contact_id)
                    if contact is not None and contact.erased_at is None:
                        phone = contacts.phone(contact)
                        record_access(
                            session, identity.user_id, participant.id, AccessReason.CALL_BACK, now
                        )
                entries.append(
                    QueueEntry(
                        id=request.id,
                        reference=participant.reference,
                        study_id=request.study_id,
                        language=participant.language,
                        requested_at=request.requested_at,
                        status=request.status,
                        claimed_by=claimer.email if claimer is not None else None,
                        mine=mine,
                        phone=phone,
                    )
                )
        return entries

    async def claim(self, identity: StaffIdentity, request_id: int) -> None:
        """Take an open request: from now on only ``identity`` sees its number.

        Raises :class:`UnknownCallback` (not in scope, or no such request) and
        :class:`Conflict` (someone else claimed it first, or it is done).
        """
        async with self.db.transaction() as session:
            repository = CallbackRepository(session)
            request = await self._visible(repository, identity, request_id)
            if request.status is not CallbackStatus.OPEN:
                raise Conflict("this call-back has already been taken")
            request.status = CallbackStatus.CLAIMED
            request.claimed_by = identity.user_id
            request.claimed_at = self.clock()
            repository.save(request)
        log.info("callback.claimed", request=request_id, staff_user_id=identity.user_id)

    async def done(
        self, identity: StaffIdentity, request_id: int, outcome: CallbackOutcome, note: str
    ) -> None:
        """Finish a request ``identity`` claimed, with what happened.

        Raises :class:`UnknownCallback` and :class:`Conflict` (not claimed by ``identity``).
        """
        async with self.db.transaction() as session:
            repository = CallbackRepository(session)
            request = await self._visible(repository, identity, request_id)
            if (
                request.status is not CallbackStatus.CLAIMED
                or request.claimed_by != identity.user_id
            ):
                raise Conflict("only the person who took this call-back can finish it")
            request.status = CallbackStatus.DONE
            request.outcome = outcome
            request.note = note.strip()[:NOTE_LIMIT] or None
            request.done_at = self.clock()
            repository.save(request)
        log.info(
            "callback.done", request=request_id, staff_user_id=identity.user_id, outcome=outcome
        )

    @staticmethod
    async def _visible(
        repository: CallbackRepository, identity: StaffIdentity, request_id: int
    ) -> CallbackRequest:
        request = await repository.get(request_id)
        scope = scope_of(identity)
        if request is None or (scope.studies is not None and request.study_id not in scope.studies):
            raise UnknownCallback("there is no such call-back request")
        if scope.organisation is not None:
            helper = await repository.organisation_of(request)
            if helper != scope.organisation:
                raise UnknownCallback("there is no such call-back request")
        return request
