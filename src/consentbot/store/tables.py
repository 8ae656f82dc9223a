"""The database tables. The ledger (consent_event) is append-only; consent_state is its projection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from consentbot.domain.accesses import AccessorKind
from consentbot.domain.callbacks import CallbackOutcome, CallbackStatus
from consentbot.domain.ledger_hash import GENESIS
from consentbot.domain.outbox import OutboxKind, OutboxStatus
from consentbot.domain.provenance import Auth
from consentbot.domain.staff import AccessReason, StaffRole
from consentbot.domain.stopping import StopSource
from consentbot.domain.timers import TimerKind, TimerStatus
from consentbot.domain.webhooks import DeliveryStatus
from consentbot.store.types import EnumText, UTCDateTime


def _at(nullable: bool = False, index: bool = False) -> datetime:
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    default = None if nullable else ...
    value: datetime = Field(default=default, sa_column=column)
    return value


E = TypeVar("E", bound=StrEnum)


def _enum(enum: type[E], length: int, *, nullable: bool = False, default: E | None = None) -> E:
    """A column holding ``enum``'s values; required unless ``nullable`` or given a ``default``."""
    column: Column[E] = Column(EnumText(enum, length), nullable=nullable)
    value: E = Field(default=default if default is not None or nullable else ..., sa_column=column)
    return value


class Contact(SQLModel, table=True):
    """A phone number: stored encrypted, found by a keyed hash. STOP is per number."""

    __tablename__ = "contact"

    id: int | None = Field(default=None, primary_key=True)
    phone_hash: str = Field(max_length=64, unique=True)
    phone_encrypted: str
    stopped: bool = False
    stopped_at: datetime | None = _at(nullable=True)
    stopped_by: StopSource | None = _enum(StopSource, 16, nullable=True)
    """Where the STOP came from: only a START from the phone lifts one sent from the phone."""
    prompted_participant_id: int | None = None
    """The participant (study) of the last message we sent this number that asked something
    or gave a deadline. YES, NO, CONFIRM, MORE... without a study keyword go there."""
    created_at: datetime = _at()
    erased_at: datetime | None = _at(nullable=True)
    """The number was removed on a deletion request (no study uses it any more)."""


class Participant(SQLModel, table=True):
    """One person in one study, with their conversation and the head of their ledger."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("study_id", "reference"),
        UniqueConstraint("study_id", "contact_id"),
        # The consent check's index: one probe per reference answers it, table untouched.
        Index("ix_participant_consent_check", "study_id", "reference", "permitted_purposes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100)
    reference: str = Field(max_length=100)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    language: str = Field(max_length=16)
    joined_by: str = Field(default="invitation", max_length=16)
    """"invitation" (a research system or staff invited them) or "keyword" (they texted it)."""
    organisation: str | None = Field(default=None, max_length=200)
    """The community organisation that helps the person: set when one of its workers
    registers them, or first finds someone no organisation helps. Only that organisation's
    workers may open the person or see their call-backs (docs/staff.md)."""
    conversation: str = "{}"
    content_version: int
    ledger_seq: int = 0
    ledger_head: str = Field(default=GENESIS, max_length=64)
    created_at: datetime = _at()
    updated_at: datetime = _at()
    erased_at: datetime | None = _at(nullable=True)
    """Erased on request: no more turns; conversation text is gone, the ledger stays."""
    first_read_at: datetime | None = _at(nullable=True)
    """When a turn first showed the person one of the study's topics (the console's "read")."""
    permitted_purposes: str = Field(
        default="", max_length=2000, sa_column_kwargs={"server_default": ""}
    )
    """The purposes whose consent is ``active`` today, as ``" a b "``
    (domain/permitted.py): the consent check answers from this row alone."""


class ConsentEvent(SQLModel, table=True):
    """One consent change. Append-only; hash-chained per participant."""

    __tablename__ = "consent_event"
    __table_args__ = (UniqueConstraint("participant_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id")
    seq: int
    study_id: str = Field(max_length=100)
    purpose_id: str = Field(max_length=100)
    action: str = Field(max_length=32)
    from_status: str = Field(max_length=32)
    to_status: str = Field(max_length=32)
    withdrawal_level: str | None = Field(default=None, max_length=32)
    content_version: int
    content_digest: str = Field(max_length=64)
    language: str = Field(max_length=16)
    channel: str = Field(max_length=32)
    actor: str = Field(max_length=100)
    auth: Auth | None = _enum(Auth, 16, nullable=True)
    """How the person was identified (None only on events written before it was recorded)."""
    assisted_by: str | None = Field(default=None, max_length=200)
    """The community worker (and organisation) who helped, in an assisted session."""
    occurred_at: datetime = _at()
    confirm_from: datetime | None = _at(nullable=True)
    """On a yes: when CONFIRM starts to work (the end of the time to think)."""
    confirm_by: datetime | None = _at(nullable=True)
    """On a yes: when it lapses if not confirmed."""
    confirmed_via: str | None = Field(default=None, max_length=16)
    """On a confirm a worker recorded: ``in-person`` or ``phone-call`` (ConfirmedVia)."""
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ConsentState(SQLModel, table=True):
    """Current status per participant and purpose, kept in the transaction that writes the ledger."""

    __tablename__ = "consent_state"
    # Covering: a consent check reads the status without touching the table (0018).
    __table_args__ = (Index("ix_consent_state_status", "participant_id", "purpose_id", "status"),)

    participant_id: int = Field(foreign_key="participant.id", primary_key=True)
    purpose_id: str = Field(max_length=100, primary_key=True)
    status: str = Field(max_length=32)
    since: datetime = _at()
    pending_since: datetime | None = _at(nullable=True)
    content_version: int
    language: str = Field(max_length=16)
    withdrawal_level: str | None = Field(default=None, max_length=32)


class Timer(SQLModel, table=True):
    """Work due later: a reminder to confirm, an expiry, a "remind me later"."""

    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    kind: TimerKind = _enum(TimerKind, 32)
    due_at: datetime = _at()
    status: TimerStatus = _enum(TimerStatus, 16, default=TimerStatus.PENDING)
    created_at: datetime = _at()
    done_at: datetime | None = _at(nullable=True)


OUTBOX_UNBLANKED = "body <> '' OR secret_encrypted IS NOT NULL"
"""An outbox row that still holds its text or secret: ``ix_outbox_unblanked``'s condition.
A query can use that index only where its own condition holds this same text."""


class OutboxMessage(SQLModel, table=True):
    """A message to send, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "send_after"),
        # A claim reads each side's queue oldest first and stops at its limit: without
        # this it sorted every due message on every round (a morning's invitations).
        Index("ix_outbox_queue", "status", "paced", "id"),
        # A number's earlier messages in one state: what a due message may wait behind.
        Index("ix_outbox_contact", "contact_id", "status", "id"),
        # The shared send rate counts the last second's claims on every round.
        Index("ix_outbox_claimed_at", "claimed_at"),
        # Retention blanks old messages' text: only those still holding some are indexed,
        # so its hourly read does not grow with every message ever sent.
        Index(
            "ix_outbox_unblanked",
            "send_after",
            sqlite_where=text(OUTBOX_UNBLANKED),
            postgresql_where=text(OUTBOX_UNBLANKED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id")
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    reference: str = Field(max_length=32, unique=True)
    """Unguessable: what gateways echo back in delivery reports."""
    kind: OutboxKind = _enum(OutboxKind, 32)
    body: str
    """The text, with any one-time code or personal link replaced by a marker."""
    secret_encrypted: str | None = None
    """The code or link the marker stands for, encrypted; erased once the message has gone."""
    ucs2: bool = False
    segments: int = 1
    always: bool = False
    """Send even to a number that sent STOP (only the STOP and START confirmations)."""
    paced: bool = False
    """A message we start (its kind is in ``PROACTIVE``): quiet hours hold it and the send
    rate paces it. Replies are not: they have a queue of their own (``ix_outbox_queue``)."""
    status: OutboxStatus = _enum(OutboxStatus, 16, default=OutboxStatus.PENDING)
    attempts: int = 0
    send_after: datetime = _at()
    claimed_at: datetime | None = _at(nullable=True)
    """When a dispatcher took it for sending: a row left in ``sending`` long after is stuck."""
    provider_id: str | None = Field(default=None, max_length=64, index=True)
    delivery_status: str | None = Field(default=None, max_length=32)
    error_code: str | None = Field(default=None, max_length=32)
    created_at: datetime = _at()
    sent_at: datetime | None = _at(nullable=True)


class InboundMessage(SQLModel, table=True):
    """Gateway message ids already handled: inbound handling is idempotent on them."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("gateway", "gateway_message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    gateway: str = Field(max_length=32)
    gateway_message_id: str = Field(max_length=128)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    received_at: datetime = _at(index=True)


class ApiToken(SQLModel, table=True):
    """A research system's bearer token, stored as its SHA-256, scoped to one study."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=200)
    created_at: datetime = _at()
    revoked_at: datetime | None = _at(nullable=True)


class WebSession(SQLModel, table=True):
    """A browser's conversation with one study; anonymous until a phone number is verified."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    """SHA-256 of the session cookie; the cookie itself is never stored."""
    study_id: str = Field(max_length=100)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    language: str = Field(max_length=16)
    conversation: str = "{}"
    """The conversation while anonymous; once linked, the participant's is used."""
    csrf_token: str = Field(max_length=64)
    auth: Auth | None = _enum(Auth, 16, nullable=True)
    """How the session was linked to a participant: ``sms-code`` or ``link``."""
    language_chosen: bool = False
    """The person picked the page's language (linking keeps the participant's otherwise)."""
    waiting_text: str | None = None
    """An answer given before the number was verified, replayed once it is."""
    waiting_question: str | None = None
    """The question the waiting answer was given to ("" for none)."""
    created_at: datetime = _at()
    expires_at: datetime = _at(index=True)


class WebMessage(SQLModel, table=True):
    """The transcript a browser shows: what the person wrote and what the bot answered."""

    __tablename__ = "web_message"

    id: int | None = Field(default=None, primary_key=True)
    web_session_id: int = Field(foreign_key="web_session.id", index=True)
    direction: str = Field(max_length=8)
    """"in" (the person) or "out" (the bot)."""
    body: str
    created_at: datetime = _at(index=True)


class InvitationLink(SQLModel, table=True):
    """A personal link (/i/{token}) that opens one participant's conversation until it expires."""

    __tablename__ = "invitation_link"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _at()
    expires_at: datetime = _at()
    web_session_id: int | None = Field(default=None, foreign_key="web_session.id", index=True)
    """The browser session it was first opened in: it opens no other."""
    revoked_at: datetime | None = _at(nullable=True)
    """WITHDRAW or STOP revoke a participant's links."""


class PhoneVerification(SQLModel, table=True):
    """A one-time code texted to a number to link a web session to it."""

    __tablename__ = "phone_verification"

    id: int | None = Field(default=None, primary_key=True)
    web_session_id: int = Field(foreign_key="web_session.id", index=True)
    phone_hash: str = Field(max_length=64, index=True)
    phone_encrypted: str
    client_hash: str = Field(max_length=64, index=True)
    """A keyed hash of the client address that asked: limits codes per address."""
    code_hash: str = Field(max_length=64)
    attempts: int = 0
    created_at: datetime = _at(index=True)
    expires_at: datetime = _at()
    verified_at: datetime | None = _at(nullable=True)


class WebFormUse(SQLModel, table=True):
    """One-time form ids already submitted: a repeated POST is recognised and not applied twice."""

    __tablename__ = "web_form_use"
    __table_args__ = (UniqueConstraint("web_session_id", "form_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    web_session_id: int = Field(foreign_key="web_session.id")
    form_hash: str = Field(max_length=64)
    used_at: datetime = _at(index=True)


class PublishedVersion(SQLModel, table=True):
    """One published version of a study: its files as they were, never changed.

    The repository has no path to update or delete a row, and it recomputes
    ``content_hash`` over ``files`` whenever it reads one, refusing a version that
    no longer matches.
    """

    __tablename__ = "published_versions"
    __table_args__ = (UniqueConstraint("study_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100)
    version: int
    content_hash: str = Field(max_length=64)
    """SHA-256 over every file's name and bytes (``StudyFiles.content_hash``)."""
    files: str
    """JSON ``{file name: text}``: study.yaml and every ``<lang>.yaml``, exactly as written."""
    published_by: str = Field(max_length=200)
    published_at: datetime = _at()


class StudyChangeApplied(SQLModel, table=True):
    """A published version's ``changes`` were applied to this participant: never twice.

    Written in the same transaction as the participant's turn, so a change applied in
    groups after publishing can resume where it stopped, and a participant reached twice
    (two processes sweeping, or a sweep after a crash) gets no second event or message.
    """

    __tablename__ = "study_change_applied"

    participant_id: int = Field(foreign_key="participant.id", primary_key=True)
    version: int = Field(primary_key=True)
    """The study version whose change was applied."""
    applied_at: datetime = _at()


class StaffUser(SQLModel, table=True):
    """A member of staff: an admin, a study team member or a community worker (docs/staff.md)."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    """Lower-cased: what they log in with."""
    role: StaffRole = _enum(StaffRole, 32)
    studies: str = "[]"
    """JSON list of study ids (a study team's studies; empty for the other roles)."""
    organisation: str | None = Field(default=None, max_length=200)
    """A community worker's organisation."""
    password_hash: str | None = None
    """Argon2id (``$argon2id$...``); None until they follow their set-password link."""
    totp_secret_encrypted: str | None = None
    """The TOTP secret, sealed with the secret key and bound to this account's id."""
    totp_last_step: int | None = None
    """The 30-second step of the last code accepted: a code is never accepted twice."""
    disabled_at: datetime | None = _at(nullable=True)
    created_at: datetime = _at()


class StaffSession(SQLModel, table=True):
    """A staff member's browser session; ends after 30 minutes idle, on logout or when disabled."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    """SHA-256 of the cookie; the cookie itself is never stored."""
    staff_user_id: int = Field(foreign_key="staff_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    second_factor_at: datetime | None = _at(nullable=True)
    """When a TOTP code was given in this session (None: not yet, or none needed)."""
    pending_totp_encrypted: str | None = None
    """A TOTP secret being set up, sealed, until a code from it is given."""
    created_at: datetime = _at()
    last_seen_at: datetime = _at()
    ended_at: datetime | None = _at(nullable=True)


class StaffPasswordToken(SQLModel, table=True):
    """A one-time link to set a password: stored as its SHA-256, works once, expires."""

    __tablename__ = "staff_password_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_user_id: int = Field(foreign_key="staff_user.id", index=True)
    created_at: datetime = _at()
    expires_at: datetime = _at()
    used_at: datetime | None = _at(nullable=True)


class StaffLoginFailure(SQLModel, table=True):
    """A failed login (password or code), counted against an email address and a client address.

    Both are kept as keyed hashes, and an email with no account counts the same as one
    with an account, so a lock-out says nothing about whether an account exists.
    """

    __tablename__ = "staff_login_failure"
    __table_args__ = (Index("ix_staff_login_failure_key", "key_hash", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64)
    occurred_at: datetime = _at()


class StaffAccessLog(SQLModel, table=True):
    """Who looked at which participant, when and why. Append-only: nothing updates or deletes it."""

    __tablename__ = "staff_access_log"

    id: int | None = Field(default=None, primary_key=True)
    staff_user_id: int = Field(foreign_key="staff_user.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    reason: AccessReason = _enum(AccessReason, 32)
    occurred_at: datetime = _at(index=True)


class CallbackRequest(SQLModel, table=True):
    """A person asked to be phoned back (CALL): a queue for the study team and community
    workers. It records the call, never a consent decision (those go through the ledger)."""

    __tablename__ = "callback_request"
    __table_args__ = (Index("ix_callback_request_queue", "status", "study_id"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    requested_at: datetime = _at()
    status: CallbackStatus = _enum(CallbackStatus, 16)
    claimed_by: int | None = Field(default=None, foreign_key="staff_user.id")
    """The member of staff who took it: the only one shown the phone number."""
    claimed_at: datetime | None = _at(nullable=True)
    done_at: datetime | None = _at(nullable=True)
    outcome: CallbackOutcome | None = _enum(CallbackOutcome, 32, nullable=True)
    note: str | None = Field(default=None, max_length=1000)
    """What the caller wrote down: about the call, never a consent decision."""


class AssistedSession(SQLModel, table=True):
    """A community worker helping one person in person (services/assisted.py).

    Its web session holds the page's transcript (replies go to the page, never by SMS);
    only the worker's organisation (or the member of staff, without one) may open it.
    """

    __tablename__ = "assisted_session"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    web_session_id: int = Field(foreign_key="web_session.id")
    staff_user_id: int = Field(foreign_key="staff_user.id")
    organisation: str | None = Field(default=None, max_length=200)
    interpreter: bool = False
    """An interpreter was present: named in ``assisted_by`` of every event from then on."""
    registered: bool = False
    """The worker registered the person in this session, the person having agreed to it."""
    started_at: datetime = _at()
    ends_at: datetime = _at(index=True)
    confirmed_via: str | None = Field(default=None, max_length=16)
    """A confirmation the worker recorded in this session: how the person gave it."""
    confirmed_at: datetime | None = _at(nullable=True)
    """When the person confirmed (in person or on the phone), as the worker recorded it."""
    confirmation_note: str | None = Field(default=None, max_length=1000)
    """The worker's note about that confirmation: free text, never in the ledger's hash."""
    receipt_seq: int = 0
    """The person's ledger seq the last receipt covered (at opening: their seq then)."""
    no_phone: bool = False
    """The person has no usable phone: the receipt is printed, not texted."""
    last_active_at: datetime = _at()
    """The last time the worker opened or used the session: a visit left idle ends."""
    closed_at: datetime | None = _at(nullable=True)
    """When the visit ended on its own, left idle or past its length: its receipt went then."""


class Announcement(SQLModel, table=True):
    """News or results sent to a study's participants (``consentbot announce``).

    Only a digest of the texts is kept: a re-run under the same name must send the same
    words, and the texts themselves live in the team's file and, until purged, the outbox.
    """

    __tablename__ = "announcement"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100)
    name: str = Field(max_length=100)
    """The file's ``id``, e.g. ``results-2027-01``."""
    texts_digest: str = Field(max_length=64)
    created_at: datetime = _at()


class AnnouncementRecipient(SQLModel, table=True):
    """One participant queued for one announcement, written with their outbox message: a
    re-run skips everyone here, so nobody is sent the same announcement twice."""

    __tablename__ = "announcement_recipient"

    announcement_id: int = Field(foreign_key="announcement.id", primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", primary_key=True, index=True)
    outbox_id: int = Field(foreign_key="outbox.id")
    """The message queued: what became of it is the announcement's outcome for this person."""
    language: str = Field(max_length=16)
    queued_at: datetime = _at()


class AccessChain(SQLModel, table=True):
    """The head of a study's chain of access records; locked while a record is appended."""

    __tablename__ = "access_chain"

    study_id: str = Field(max_length=100, primary_key=True)
    seq: int = 0
    head: str = Field(default=GENESIS, max_length=64)


class DataAccess(SQLModel, table=True):
    """A research system used some participants' data (``POST .../accesses``). Append-only;
    hash-chained per study (domain/accesses.py)."""

    __tablename__ = "data_access"
    __table_args__ = (UniqueConstraint("study_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100)
    seq: int
    purpose_id: str = Field(max_length=100)
    accessor_name: str = Field(max_length=200)
    accessor_organisation: str = Field(max_length=200)
    accessor_kind: AccessorKind = _enum(AccessorKind, 16)
    dataset: str = Field(max_length=200)
    reason: str = Field(max_length=1000)
    recorded_at: datetime = _at()
    participant_count: int
    participants_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DataAccessParticipant(SQLModel, table=True):
    """One participant whose data an access used. Unlinked (participant and nonce emptied)
    when the person is erased; ``link_hash`` stays so the record still verifies."""

    __tablename__ = "data_access_participant"

    id: int | None = Field(default=None, primary_key=True)
    access_id: int = Field(foreign_key="data_access.id", index=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    nonce: str | None = Field(default=None, max_length=32)
    link_hash: str = Field(max_length=64)


class AccessRequest(SQLModel, table=True):
    """An ``Idempotency-Key`` already used for a study, kept hashed with its answer."""

    __tablename__ = "access_request"
    __table_args__ = (UniqueConstraint("study_id", "key_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100)
    key_hash: str = Field(max_length=64)
    body_hash: str = Field(max_length=64)
    """SHA-256 of the request body: the same key with another body is refused."""
    response: str
    """The JSON answered the first time, answered again to every retry."""
    created_at: datetime = _at()


class Webhook(SQLModel, table=True):
    """A study's receiver of consent changes (docs/webhooks.md)."""

    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(max_length=100, index=True)
    url: str = Field(max_length=2000)
    secret_encrypted: str
    """The signing secret, sealed with the secret key and bound to this webhook's id."""
    created_at: datetime = _at()
    removed_at: datetime | None = _at(nullable=True)


class WebhookDelivery(SQLModel, table=True):
    """One ledger event for one webhook: written in the transaction that writes the event."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        # A participant's next delivery waits for the one before it (same webhook).
        Index("ix_webhook_delivery_order", "webhook_id", "participant_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id")
    participant_id: int = Field(foreign_key="participant.id", index=True)
    message_id: str = Field(max_length=40, unique=True)
    """The ``webhook-id`` header: the same on every attempt, so receivers can drop repeats."""
    body: str
    """The JSON sent, exactly as signed (a study reference, never a phone number)."""
    status: DeliveryStatus = _enum(DeliveryStatus, 16, default=DeliveryStatus.PENDING)
    attempts: int = 0
    created_at: datetime = _at()
    next_attempt_at: datetime = _at()
    """Due from then; while an attempt runs, the end of its lease."""
    last_attempt_at: datetime | None = _at(nullable=True)
    last_error: str | None = Field(default=None, max_length=64)
    """What the last failed attempt met ("HTTP 500", "timeout"), never the receiver's body."""
    delivered_at: datetime | None = _at(nullable=True)


class ConsentReceipt(SQLModel, table=True):
    """A signed receipt for one turn that changed consent (docs/receipts.md).

    Written in the turn's transaction, with its ledger events. ``document`` is the
    signed JSON exactly as issued: it names the person only by the study's reference.
    """

    __tablename__ = "consent_receipt"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    study_id: str = Field(max_length=100)
    created_at: datetime = _at()
    document: str
    """The signed receipt: canonical JSON, signature block included."""
    signature: str = Field(max_length=200)
    """The signature's base64 value, as in the document's signature block."""
