"""Assisted sessions: a community worker helps a person through a study, in person.

The worker finds the person by their phone number in a study (or registers them there,
with their agreement), which opens a session for the worker's organisation. What the
person says goes through the one turn pipeline with ``channel: assisted``,
``auth: assisted`` and ``assisted_by`` naming the worker and organisation; the replies go
to the session's page, never by SMS. Every showing of the person is in the access log.

Cooling-off: the person never confirms in the session. CONFIRM is refused here, and the
person confirms later from their own phone, or, without one, in person or by a phone call
that a worker records afterwards (:meth:`AssistedSessions.record_confirmation`): the same
CONFIRM turn, decided at the moment the person confirmed, under the same cooling-off rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.content.model import Study
from consentbot.conversation.vocabulary import Command
from consentbot.domain import cooling_off
from consentbot.domain.cooling_off import PurposeConsent
from consentbot.domain.helping import VISIT_IDLE, helper_after_opening, may_open
from consentbot.domain.provenance import Auth, Channel, ConfirmedVia, Provenance
from consentbot.domain.staff import AccessReason, StaffRole
from consentbot.services.assisted_receipts import AssistedReceipts, ReceiptBy
from consentbot.services.deps import ServiceDeps
from consentbot.services.errors import InvalidInput, ServiceError, UnknownStudy
from consentbot.services.participation import consent_from
from consentbot.services.pipeline import (
    ConfirmationRecorded,
    ForParticipant,
    LanguageChosen,
    Said,
    ToPage,
    TurnPipeline,
)
from consentbot.services.staff_access_log import record_access
from consentbot.services.staff_login import StaffIdentity
from consentbot.services.web_sessions import WebPage, WebSessionService
from consentbot.store.contacts import ContactRepository
from consentbot.store.participants import ParticipantRepository, generate_reference
from consentbot.store.phones import PhoneNumberError, to_e164
from consentbot.store.tables import AssistedSession, Participant, WebSession
from consentbot.store.web_sessions import WebSessionRepository

log = structlog.get_logger(__name__)

VISIT_LENGTH = timedelta(hours=12)
"""An assisted session lasts one visit: after that the worker finds the person again."""
MAX_TEXT = 500
MAX_NOTE = 1000
JOINED_BY = "assisted"
"""``participant.joined_by`` for someone a worker registered."""


class PersonNotFound(ServiceError):
    """No one with that number is in the study (nothing more is said about the number)."""


class NotYourSession(ServiceError):
    """The worker's organisation has no open session with this person."""


class HelpedElsewhere(ServiceError):
    """The number is of a person another organisation helps: this worker cannot open them."""


class BeforeLastChange(ServiceError):
    """The person's choices changed after the time given for a confirmation.

    Recording it would put an older event after a newer one in the ledger: a confirmation
    is recorded only for a time after the person's last change.
    """

    def __init__(self, last_change: datetime) -> None:
        super().__init__("the person's choices changed after that time", field="at")
        self.last_change = last_change


class ConfirmLater(ServiceError):
    """CONFIRM was typed in an assisted session: the person confirms later, on their own."""


class TooEarlyToConfirm(ServiceError):
    """At that time the person was still within their time to think (cooling-off)."""

    def __init__(self, opens_at: datetime) -> None:
        super().__init__("the time to think had not ended then", field="at")
        self.opens_at = opens_at


class TooLateToConfirm(ServiceError):
    """At that time the person's yes had already lapsed."""


class NothingToConfirm(ServiceError):
    """No yes of the person waits to be confirmed."""


@dataclass(frozen=True, slots=True)
class AssistedPage:
    """What the session page shows: the person's conversation and the session's facts."""

    page: WebPage
    participant_id: int
    reference: str
    interpreter: bool
    can_record_confirmation: bool = False
    """A yes of the person may be confirmed now: the page offers to record a confirmation."""
    timezone: str = "UTC"
    """The study's time zone: the confirmation's time is entered in it."""


def assisted_by(identity: StaffIdentity, interpreter: bool) -> str:
    """The ledger's ``assisted_by``: the worker, their organisation, and any interpreter."""
    organisation = identity.organisation or identity.role.value
    text = f"{identity.email} ({organisation})"
    return text + " with interpreter" if interpreter else text


def provenance(
    identity: StaffIdentity, interpreter: bool, confirmed_via: ConfirmedVia | None = None
) -> Provenance:
    """How every turn of an assisted session is recorded."""
    return Provenance(
        Channel.ASSISTED,
        identity.email,
        Auth.ASSISTED,
        assisted_by(identity, interpreter),
        confirmed_via,
    )


def check_confirmable(consent: dict[str, PurposeConsent], study: Study, at: datetime) -> None:
    """Raise unless a yes of the person could be confirmed at ``at`` (the CONFIRM rule).

    :class:`TooEarlyToConfirm` while every waiting yes was still cooling off,
    :class:`TooLateToConfirm` once they had lapsed, :class:`NothingToConfirm` otherwise.
    """
    rules = study.cooling_off
    if cooling_off.confirmable(consent, rules, at):
        return
    waiting = cooling_off.still_cooling(consent, rules, at)
    if waiting:
        opens = min(rules.opens_at(consent[p].pending_since or at) for p in waiting)
        raise TooEarlyToConfirm(opens)
    if cooling_off.lapsed(consent, rules, at):
        raise TooLateToConfirm("the yes had lapsed by then", field="at")
    raise NothingToConfirm("no yes waits to be confirmed")


class AssistedSessions:
    """Find or register a person, then run their conversation with a worker beside them."""

    def __init__(
        self, deps: ServiceDeps, pipeline: TurnPipeline, sessions: WebSessionService
    ) -> None:
        self.deps = deps
        self.pipeline = pipeline
        self.sessions = sessions
        self.receipts = AssistedReceipts(deps)

    def _e164(self, raw: str) -> str:
        try:
            return to_e164(raw.strip(), self.deps.default_region)
        except PhoneNumberError as error:
            raise InvalidInput(str(error), field="phone") from None

    async def find(
        self, identity: StaffIdentity, study_id: str, phone: str, interpreter: bool
    ) -> int:
        """Open a session with the person of ``phone`` in ``study_id``; their participant id.

        :class:`PersonNotFound` when the number is in no study of that id (or erased).
        """
        study = self.sessions.study(study_id)
        e164 = self._e164(phone)
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            contact = await ContactRepository(session, self.deps.vault).find(e164)
            participant = (
                await ParticipantRepository(session).by_contact(study.id, contact.id)
                if contact is not None and contact.id is not None
                else None
            )
            if participant is None or participant.erased_at is not None:
                raise PersonNotFound("no one with that number is in the study")
            if not may_open(identity.role, identity.organisation, participant.organisation):
                # Said as if the number were not there: another organisation's people,
                # and whether they take part, are not this worker's to know.
                log.info(
                    "assisted.other_organisation",
                    participant=participant.id,
                    staff_user_id=identity.user_id,
                )
                raise PersonNotFound("no one with that number is in the study")
            await self._open(session, identity, participant, interpreter, False, now)
        assert participant.id is not None
        return participant.id

    async def register(
        self,
        identity: StaffIdentity,
        study_id: str,
        phone: str,
        language: str,
        *,
        agreed: bool,
        interpreter: bool,
    ) -> int:
        """Register the person of ``phone`` in ``study_id`` (they agreed), open a session,
        and start the study in their language; their participant id.

        Someone already in the study is not registered twice: their session just opens.
        """
        if not agreed:
            raise InvalidInput("the person must agree to be registered", field="agreed")
        study = self.sessions.study(study_id)
        if language not in study.texts:
            raise InvalidInput(f"{language!r} is not offered by this study", field="language")
        e164 = self._e164(phone)
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            contact = await ContactRepository(session, self.deps.vault).find_or_create(e164, now)
            assert contact.id is not None
            participants = ParticipantRepository(session)
            participant = await participants.by_contact(study.id, contact.id)
            if participant is not None and participant.erased_at is not None:
                raise PersonNotFound("the person asked for their data to be erased")
            if participant is not None and not may_open(
                identity.role, identity.organisation, participant.organisation
            ):
                log.info(
                    "assisted.other_organisation",
                    participant=participant.id,
                    staff_user_id=identity.user_id,
                )
                raise HelpedElsewhere("another organisation helps the person of this number")
            new = participant is None
            if participant is None:
                participant = await participants.create(
                    study_id=study.id,
                    reference=generate_reference(),
                    contact_id=contact.id,
                    language=language,
                    content_version=study.version,
                    now=now,
                    joined_by=JOINED_BY,
                )
                log.info(
                    "participant.registered_assisted", study=study.id, participant=participant.id
                )
            assisted = await self._open(session, identity, participant, interpreter, new, now)
            if new:
                web = await session.get(WebSession, assisted.web_session_id)
                assert web is not None
                assert participant.id is not None
                await self.pipeline.run(
                    session,
                    ForParticipant(participant.id),
                    LanguageChosen(language),
                    provenance(identity, interpreter),
                    ToPage(web),
                    now,
                )
        assert participant.id is not None
        return participant.id

    async def _open(
        self,
        session: AsyncSession,
        identity: StaffIdentity,
        participant: Participant,
        interpreter: bool,
        registered: bool,
        now: datetime,
    ) -> AssistedSession:
        """A new session (and its page's transcript) for this worker; the showing logged.

        The worker's organisation becomes the helper of a person no organisation helped.
        """
        assert participant.id is not None
        helper = helper_after_opening(
            identity.role, identity.organisation, participant.organisation
        )
        if helper != participant.organisation:
            participant.organisation = helper
            session.add(participant)
            log.info("participant.helped_by", participant=participant.id)
        web, _cookie = await WebSessionRepository(session).create(
            participant.study_id,
            participant.language,
            now,
            participant_id=participant.id,
            auth=Auth.ASSISTED,
        )
        assert web.id is not None
        assisted = AssistedSession(
            participant_id=participant.id,
            web_session_id=web.id,
            staff_user_id=identity.user_id,
            organisation=identity.organisation,
            interpreter=interpreter,
            registered=registered,
            started_at=now,
            ends_at=now + VISIT_LENGTH,
            last_active_at=now,
            receipt_seq=participant.ledger_seq,
        )
        session.add(assisted)
        await session.flush()
        record_access(session, identity.user_id, participant.id, AccessReason.ASSISTED_SESSION, now)
        log.info("assisted.opened", participant=participant.id, staff_user_id=identity.user_id)
        return assisted

    @staticmethod
    async def _current(
        session: AsyncSession, identity: StaffIdentity, participant_id: int, now: datetime
    ) -> AssistedSession:
        """The newest open session of the worker's organisation (or their own, without one).

        A visit that ended, by "End of the visit" or left idle, is no longer open (even
        before :meth:`close_lapsed` sends its receipt). Using it keeps it open.
        """
        statement = select(AssistedSession).where(
            AssistedSession.participant_id == participant_id,
            AssistedSession.ends_at > now,
            col(AssistedSession.closed_at).is_(None),
            AssistedSession.last_active_at > now - VISIT_IDLE,
        )
        if identity.role is StaffRole.COMMUNITY_WORKER and identity.organisation is not None:
            statement = statement.where(AssistedSession.organisation == identity.organisation)
        else:
            statement = statement.where(AssistedSession.staff_user_id == identity.user_id)
        found = (await session.exec(statement.order_by(col(AssistedSession.id).desc()))).first()
        if found is None:
            raise NotYourSession("no open assisted session with this person for you")
        found.last_active_at = now
        session.add(found)
        return found

    async def page(self, identity: StaffIdentity, participant_id: int) -> AssistedPage:
        """What the session page shows (the showing is logged)."""
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            assisted = await self._current(session, identity, participant_id, now)
            web = await session.get(WebSession, assisted.web_session_id)
            participant = await ParticipantRepository(session).get(participant_id)
            assert web is not None
            assert participant is not None
            study = self.deps.studies.get(participant.study_id)
            if study is None:
                raise UnknownStudy(f"there is no study {participant.study_id!r}")
            record_access(
                session, identity.user_id, participant_id, AccessReason.ASSISTED_SESSION, now
            )
            page = await self.sessions.page_of(session, study, web, now)
            consent = consent_from(await ParticipantRepository(session).consent(participant_id))
        return AssistedPage(
            page,
            participant_id,
            participant.reference,
            assisted.interpreter,
            can_record_confirmation=bool(cooling_off.confirmable(consent, study.cooling_off, now)),
            timezone=study.timezone.key,
        )

    async def say(
        self,
        identity: StaffIdentity,
        participant_id: int,
        form_id: str,
        text: str,
        question: str | None,
    ) -> None:
        """What the person said (typed by them or the worker), once per form.

        :class:`ConfirmLater` for CONFIRM: it is written to the transcript, never run.
        """
        text = text.strip()[:MAX_TEXT]
        now = self.deps.clock()
        refused = False
        async with self.deps.db.transaction() as session:
            assisted = await self._current(session, identity, participant_id, now)
            web = await session.get(WebSession, assisted.web_session_id)
            assert web is not None
            sessions = WebSessionRepository(session)
            if not text or not await sessions.use_form(web, form_id, now):
                return
            sessions.say(web, "in", text, now)
            participant = await ParticipantRepository(session).get(participant_id)
            language = participant.language if participant is not None else web.language
            if self._is_confirm(web.study_id, language, text):
                refused = True
            else:
                await self.pipeline.run(
                    session,
                    ForParticipant(participant_id),
                    Said(text, seen_question=question),
                    provenance(identity, assisted.interpreter),
                    ToPage(web),
                    now,
                )
        if refused:
            log.info("assisted.confirm_refused", participant=participant_id)
            raise ConfirmLater("the person confirms later, from their own phone")

    def _is_confirm(self, study_id: str, language: str, text: str) -> bool:
        """CONFIRM in the person's words (or English), or something close to it."""
        intent = self.deps.lexicon.read(text, [language], [study_id])
        near = intent.near_miss.command if intent.near_miss is not None else None
        return Command.CONFIRM in (intent.command, near)

    async def record_confirmation(
        self,
        identity: StaffIdentity,
        participant_id: int,
        form_id: str,
        via: ConfirmedVia,
        at: datetime,
        note: str,
    ) -> None:
        """Record that the person confirmed ``via`` a visit or a call at ``at``, once per form.

        ``at`` without a time zone is in the study's. It runs the CONFIRM turn through the
        pipeline as of ``at`` (so the ledger shows when the person confirmed), under the
        same cooling-off rule as CONFIRM by SMS; the worker's ``note`` (required) stays
        with the session, outside the ledger. Raises :class:`InvalidInput` (field
        ``note`` or ``at``), :class:`BeforeLastChange` (the person changed their choices
        after ``at``: the ledger stays in time order), :class:`TooEarlyToConfirm`,
        :class:`TooLateToConfirm` or :class:`NothingToConfirm`, and then nothing is recorded.
        """
        note = note.strip()[:MAX_NOTE]
        if not note:
            raise InvalidInput("a note is required", field="note")
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            assisted = await self._current(session, identity, participant_id, now)
            web = await session.get(WebSession, assisted.web_session_id)
            participant = await ParticipantRepository(session).get(participant_id)
            assert web is not None
            assert participant is not None
            study = self.deps.studies.get(participant.study_id)
            if study is None:
                raise UnknownStudy(f"there is no study {participant.study_id!r}")
            if at.tzinfo is None:
                at = at.replace(tzinfo=study.timezone)
            if at > now:
                raise InvalidInput("the time is in the future", field="at")
            if not await WebSessionRepository(session).use_form(web, form_id, now):
                return
            states = await ParticipantRepository(session).consent(participant_id)
            last_change = max((state.since for state in states), default=None)
            if last_change is not None and at < last_change:
                raise BeforeLastChange(last_change)
            check_confirmable(consent_from(states), study, at)
            outcome = await self.pipeline.run(
                session,
                ForParticipant(participant_id),
                ConfirmationRecorded(),
                provenance(identity, assisted.interpreter, via),
                ToPage(web),
                at,
            )
            if outcome.turn is None or not outcome.turn.changes:
                raise NothingToConfirm("no yes waits to be confirmed")
            assisted.confirmed_via = via.value
            assisted.confirmed_at = at
            assisted.confirmation_note = note
            session.add(assisted)
        log.info("assisted.confirmation_recorded", participant=participant_id, via=via.value)

    async def finish(
        self, identity: StaffIdentity, participant_id: int, *, no_phone: bool
    ) -> ReceiptBy:
        """Give the person what the visit recorded, and how to change it.

        Texted in their language (an :attr:`OutboxKind.ASSISTED_RECEIPT`, queued in this
        transaction; quiet hours hold it) when anything changed since the session opened
        or its last receipt; never to a number that sent STOP, nor when the worker says
        the person has no usable phone: then the worker prints it. The session stays open
        for printing until it lapses (:meth:`close_lapsed`), which sends a receipt again
        only if something changed after this one.
        """
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            assisted = await self._current(session, identity, participant_id, now)
            assisted.no_phone = no_phone
            by = await self.receipts.decide(session, assisted, now)
        if by is ReceiptBy.SMS:
            log.info("assisted.receipt_queued", participant=participant_id)
            self.deps.on_outbox()
        return by

    async def print_address(self, identity: StaffIdentity, participant_id: int) -> tuple[str, str]:
        """The study and reference of the person of the worker's open session (to print)."""
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            await self._current(session, identity, participant_id, now)
            participant = await ParticipantRepository(session).get(participant_id)
            assert participant is not None
        return participant.study_id, participant.reference

    async def set_interpreter(
        self, identity: StaffIdentity, participant_id: int, present: bool
    ) -> None:
        """Record whether an interpreter is present (named on events from now on)."""
        now = self.deps.clock()
        async with self.deps.db.transaction() as session:
            assisted = await self._current(session, identity, participant_id, now)
            assisted.interpreter = present
            session.add(assisted)
