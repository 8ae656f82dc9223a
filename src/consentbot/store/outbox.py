"""The outbox: messages written with the change they report, sent after commit.

A one-time code or personal link is never stored in a message's body: the body holds
:data:`SECRET_MARKER` in its place and ``secret_encrypted`` the secret, sealed by the
vault and bound to the message's reference. The dispatcher puts it back at send time
(:func:`reveal`) and :func:`set_status` erases it once the message is settled.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    text,
    update,
)
from sqlalchemy import Select as CoreSelect
from sqlalchemy import select as columns
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from consentbot.domain.outbox import PROACTIVE, SETTLED, OutboxKind, OutboxStatus
from consentbot.domain.sms_segments import planned
from consentbot.store.crypto import PhoneVault
from consentbot.store.direct_sql import execute
from consentbot.store.index_choice import NotFromIndex
from consentbot.store.plain_rows import plain_rows
from consentbot.store.tables import Contact, OutboxMessage, Participant


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message that may or may not have gone: what staff need to follow it up, and no more."""

    id: int
    reference: str
    kind: OutboxKind
    study: str | None
    participant: str | None
    """The research team's reference; None for a one-time code (no participant yet)."""
    created_at: datetime
    claimed_at: datetime | None


PlannedMessage = dict[str, Any]
"""An outbox row's values, ready to insert (:meth:`OutboxRepository.plan`)."""

SECRET_MARKER = "[secret]"  # noqa: S105 (a placeholder, not a password)
"""Stands in a stored body for the code or link that ``secret_encrypted`` holds."""


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """An outbox row as a claim reads it: plain values, not a row the session tracks.

    A round takes up to a hundred messages and their numbers; building a tracked row for
    each and flushing its changes cost more than reading and updating them with Core
    statements.
    """

    id: int
    contact_id: int
    participant_id: int | None
    reference: str
    kind: OutboxKind
    body: str
    secret_encrypted: str | None
    ucs2: bool
    segments: int
    always: bool
    paced: bool
    attempts: int
    """Attempts so far, counting this claim's."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedContact:
    """The number a claimed message goes to, as the claim read it (still encrypted)."""

    id: int
    phone_hash: str
    phone_encrypted: str
    stopped: bool
    erased_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A message taken for sending, with its decrypted-later contact."""

    message: QueuedMessage
    contact: ClaimedContact


class Sealed(Protocol):
    """A message body whose secret, if any, is sealed to its reference."""

    @property
    def body(self) -> str: ...
    @property
    def secret_encrypted(self) -> str | None: ...
    @property
    def reference(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Claim:
    """What :meth:`OutboxRepository.claim_due` took."""

    messages: list[ClaimedMessage]
    """Taken for sending (status "sending")."""
    proactive_taken: int
    """Messages we start that were taken, claimed or settled (suppressed, erased): as many
    as allowed means the send rate may have held more back."""


class OutboxRepository:
    """Queue, claim and settle outbound messages.

    ``vault`` is needed only to queue a message with a secret in it.
    """

    def __init__(self, session: AsyncSession, vault: PhoneVault | None = None) -> None:
        self.session = session
        self.vault = vault

    async def add(self, rows: Sequence[PlannedMessage]) -> list[int]:
        """Queue rows from :meth:`plan`; return their ids, in the order given.

        Written at once by one Core insert, not left to the session's flush: building a
        tracked row and flushing it cost about twice the insert. The contact and
        participant already have ids, so their rows are in the database.
        """
        if len(rows) == 1:
            return [(await execute(self.session, _QUEUE, rows[0])).rows[0][0]]
        connection = await self.session.connection()
        return list((await connection.execute(_QUEUE, list(rows))).scalars().all())

    def plan(
        self,
        *,
        contact_id: int,
        participant_id: int | None,
        kind: OutboxKind,
        body: str,
        always: bool,
        send_after: datetime,
        now: datetime,
        max_segments: int,
        secret: str | None = None,
    ) -> list[PlannedMessage]:
        """The rows that queue ``body``: its SMS-sized parts of at most ``max_segments``
        each, in order, for :meth:`add` or :meth:`add_all`.

        ``secret`` is a substring of ``body`` (a one-time code, a personal link) that
        must not be stored in clear: each part holding it stores :data:`SECRET_MARKER`
        instead and the secret encrypted. Segments and encoding are those of the real
        text. A secret absent from ``body`` leaves nothing to hide.
        """
        parts = planned(body, max_segments)
        if secret and secret in body:
            self._check_secret(body, [part for part, _, _ in parts], secret)
        rows: list[PlannedMessage] = []
        for part, encoding, segments in parts:
            reference = secrets.token_hex(16)
            stored, sealed = part, None
            if secret and secret in part:
                assert self.vault is not None
                stored = part.replace(secret, SECRET_MARKER)
                sealed = self.vault.seal_secret(secret, reference)
            rows.append(
                {
                    "contact_id": contact_id,
                    "participant_id": participant_id,
                    "reference": reference,
                    "kind": kind,
                    "body": stored,
                    "secret_encrypted": sealed,
                    "ucs2": encoding == "ucs2",
                    "segments": segments,
                    "always": always,
                    "paced": kind in PROACTIVE,
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "send_after": send_after,
                    "created_at": now,
                }
            )
        return rows

    async def add_all(self, rows: Sequence[PlannedMessage]) -> None:
        """Queue rows from :meth:`plan`, in the order given, by one statement, no ids back.

        A turn never reads its messages back, and a group of turns (a round of due
        timers) queues all of theirs at once: one insert for the group costs about what a
        single message's insert did.
        """
        if rows:
            await execute(self.session, _QUEUE_PLANNED, rows[0] if len(rows) == 1 else rows)

    def _check_secret(self, body: str, parts: list[str], secret: str) -> None:
        if self.vault is None:
            raise ValueError("queueing a message with a secret needs the vault")
        if SECRET_MARKER in body or SECRET_MARKER in secret:
            raise ValueError(f"the text already holds {SECRET_MARKER!r}: it cannot be redacted")
        if sum(part.count(secret) for part in parts) != body.count(secret):
            raise ValueError("the secret would be split between two messages")

    async def any_due(self, now: datetime) -> bool:
        """Whether anything waits to be sent (a cheap read before taking the write lock)."""
        return (await self.session.exec(_ANY_DUE, params={"now": now})).first() is not None

    async def lock_pacing(self) -> None:
        """Serialise claiming against the shared send rate until commit.

        PostgreSQL: an advisory lock, so two dispatchers cannot both count the same
        window and both fill it. SQLite has one writer at a time already.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.exec(  # type: ignore[call-overload]
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), params={"key": "outbox:pace"}
            )

    async def recent_proactive(self, since: datetime) -> tuple[int, datetime | None]:
        """How many messages we start were claimed after ``since``, and the oldest claim.

        Served by ``ix_outbox_claimed_at``: only the last moments' rows are read.
        """
        ((count, oldest),) = await plain_rows(self.session, _RECENT_PROACTIVE, {"since": since})
        return int(count), oldest

    async def claim_due(
        self, now: datetime, limit: int, *, proactive_limit: int | None = None
    ) -> Claim:
        """Take due messages for sending (status "sending"), oldest first.

        A number that sent STOP gets only the messages marked ``always``: the rest are
        settled as "suppressed" here, so they are never sent later either. A number
        erased on request gets nothing ("erased"): it is no longer stored. A message does
        not overtake an earlier one to the same number that waits for a retry (see
        :func:`_waits_behind_a_retry`).

        ``proactive_limit`` caps the messages we start (the send rate allows so many now);
        replies are taken up to ``limit`` besides, so they never wait behind the pacing.
        Each side is read from its own queue (``ix_outbox_queue``) oldest first, and the
        read stops at its limit however many are due.
        """
        rows = await self._due(now, limit, paced=False)
        paced_limit = limit if proactive_limit is None else min(limit, proactive_limit)
        if paced_limit > 0:
            rows += await self._due(now, paced_limit, paced=True)
        rows.sort(key=lambda row: row[0].id)
        claimed: list[ClaimedMessage] = []
        settled: dict[OutboxStatus, list[int]] = {}
        for message, contact in rows:
            if contact.erased_at is not None:
                settled.setdefault(OutboxStatus.ERASED, []).append(message.id)
            elif contact.stopped and not message.always:
                settled.setdefault(OutboxStatus.SUPPRESSED, []).append(message.id)
            else:
                taken = replace(message, attempts=message.attempts + 1)
                claimed.append(ClaimedMessage(taken, contact))
        if claimed:
            ids = [item.message.id for item in claimed]
            await self._run(_TAKE, {"ids": ids, "now": now})
        for status, ids in settled.items():
            await self.settle(ids, status)
        proactive = sum(1 for message, _contact in rows if message.paced)
        return Claim(claimed, proactive)

    async def settle(self, message_ids: Sequence[int], status: OutboxStatus) -> None:
        """Settle these messages as ``status`` without sending them (suppressed, erased,
        not wanted), their secrets erased as :func:`set_status` does; a claim's stamp is
        cleared, since nothing was handed to a gateway."""
        assert status in SETTLED, status
        if message_ids:
            await self._run(_SETTLE, {"ids": list(message_ids), "status": status})

    async def release(self, held: Sequence[tuple[int, datetime]]) -> None:
        """Put claimed messages back as pending until the time given with each (quiet
        hours): never handed to the gateway, so the attempt and the claim are undone."""
        if held:
            await self._run(
                _RELEASE, [{"message_id": message_id, "until": until} for message_id, until in held]
            )

    async def _run(self, statement: Executable, params: Any) -> None:
        await execute(self.session, statement, params)

    async def _due(
        self, now: datetime, limit: int, *, paced: bool
    ) -> list[tuple[QueuedMessage, ClaimedContact]]:
        """Due messages we start (``paced``) or replies, and their contacts, locked.

        The contact row is locked with its messages (SKIP LOCKED on PostgreSQL): while one
        process claims a number's messages, every other claim passes that number by, so two
        processes never take parts of one number's messages at once. A reply whose parts
        the limit cut is completed (:meth:`_rest_of_replies`); a message we start waits
        while an earlier message to the number is still being sent
        (:func:`_behind_one_in_flight`).
        """
        params = {"now": now, "in_flight_since": now - IN_FLIGHT, "limit": limit}
        found = await plain_rows(self.session, _due_statement(paced), params)
        width = len(_MESSAGE_COLUMNS)
        rows = [(QueuedMessage(*row[:width]), ClaimedContact(*row[width:])) for row in found]
        if len(rows) == limit and not paced:
            rows += await self._rest_of_replies(now, rows)
        return rows

    async def _rest_of_replies(
        self, now: datetime, rows: list[tuple[QueuedMessage, ClaimedContact]]
    ) -> list[tuple[QueuedMessage, ClaimedContact]]:
        """The due parts of the batch's replies that the limit left out, locked.

        A batch that takes part 1 of a reply takes the rest too: sent in one round, in
        order, by one process. Replies are not paced, so the few extra parts cost nothing;
        messages we start keep to the send rate instead and may be split between rounds.
        This transaction holds the contacts, so only another kind of writer could hold
        a part (SKIP LOCKED): that part waits for the next round, after its earlier parts.
        """
        groups = {_part_of(message): contact for message, contact in rows}
        params = {
            "contacts": sorted({message.contact_id for message, _ in rows}),
            "last": max(message.id for message, _contact in rows),
            "now": now,
        }
        found = await plain_rows(self.session, _REST_OF_REPLIES, params)
        rest = [QueuedMessage(*row) for row in found]
        return [
            (message, groups[_part_of(message)]) for message in rest if _part_of(message) in groups
        ]

    def _stuck(self, claimed_before: datetime) -> SelectOfScalar[OutboxMessage]:
        # Served by ix_outbox_due (status first). No claimed_at: claimed before it was kept.
        return select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENDING,
            or_(
                col(OutboxMessage.claimed_at) < claimed_before,
                col(OutboxMessage.claimed_at).is_(None),
            ),
        )

    async def any_stuck(self, claimed_before: datetime) -> bool:
        """Whether a message was claimed before ``claimed_before`` and is still "sending"."""
        return (await self.session.exec(self._stuck(claimed_before).limit(1))).first() is not None

    async def mark_stuck(self, claimed_before: datetime) -> list[OutboxMessage]:
        """Mark messages still "sending" since before ``claimed_before`` as "unknown"."""
        statement = self._stuck(claimed_before).with_for_update(skip_locked=True)
        stuck = list((await self.session.exec(statement)).all())
        for message in stuck:
            set_status(message, OutboxStatus.UNKNOWN)
            self.session.add(message)
        return stuck

    async def unknown(self) -> list[UnknownMessage]:
        """Every message in "unknown", oldest first, with its study and participant reference.

        The result holds no body, secret or number: the listing must never show them.
        """
        statement = (
            select(OutboxMessage, Participant)
            .outerjoin(Participant, col(Participant.id) == col(OutboxMessage.participant_id))
            .where(OutboxMessage.status == OutboxStatus.UNKNOWN)
            .order_by(col(OutboxMessage.id))
        )
        return [
            UnknownMessage(
                id=message.id or 0,
                reference=message.reference,
                kind=message.kind,
                study=participant.study_id if participant else None,
                participant=participant.reference if participant else None,
                created_at=message.created_at,
                claimed_at=message.claimed_at,
            )
            for message, participant in (await self.session.exec(statement)).all()
        ]

    async def get(self, message_id: int) -> OutboxMessage | None:
        """The message with this id."""
        return await self.session.get(OutboxMessage, message_id)

    async def by_ids(self, message_ids: Sequence[int]) -> dict[int, OutboxMessage]:
        """The messages with these ids, by id, in one query."""
        if not message_ids:
            return {}
        statement = select(OutboxMessage).where(col(OutboxMessage.id).in_(message_ids))
        return {message.id or 0: message for message in (await self.session.exec(statement)).all()}

    async def mark_sent(self, sent: Sequence[tuple[int, str]], now: datetime) -> None:
        """Settle these (message id, gateway's id) pairs as sent, in one statement.

        No read first: a round's messages are all claimed by this process, and most of
        them went. Like :func:`set_status`, a sent message's secret is erased.
        """
        if not sent:
            return
        await self._run(
            _MARK_SENT,
            [
                {"message_id": message_id, "provider": provider, "now": now}
                for message_id, provider in sent
            ],
        )

    async def by_provider_id(self, provider_id: str, *, lock: bool = False) -> OutboxMessage | None:
        """The message a gateway's status callback refers to (``lock``: FOR UPDATE)."""
        statement = select(OutboxMessage).where(OutboxMessage.provider_id == provider_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def by_reference(self, reference: str, *, lock: bool = False) -> OutboxMessage | None:
        """The message with this (unguessable) reference, as Kannel's delivery reports give it."""
        statement = select(OutboxMessage).where(OutboxMessage.reference == reference)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def statuses(
        self, participant_ids: Sequence[int], kind: OutboxKind
    ) -> list[tuple[int, OutboxStatus]]:
        """(participant, status) of every message of ``kind`` to these participants."""
        found: list[tuple[int, OutboxStatus]] = []
        for start in range(0, len(participant_ids), 500):
            statement = select(OutboxMessage.participant_id, OutboxMessage.status).where(
                OutboxMessage.kind == kind,
                col(OutboxMessage.participant_id).in_(participant_ids[start : start + 500]),
            )
            found += [
                (participant or 0, OutboxStatus(status))
                for participant, status in (await self.session.exec(statement)).all()
            ]
        return found

    async def for_contact(self, contact_id: int) -> Sequence[OutboxMessage]:
        """Every message queued for a number, oldest first."""
        statement = (
            select(OutboxMessage)
            .where(OutboxMessage.contact_id == contact_id)
            .order_by(col(OutboxMessage.id))
        )
        return (await self.session.exec(statement)).all()


def reveal(message: Sealed, vault: PhoneVault) -> str:
    """The text to send: the body with its secret put back (raises SecretKeyError)."""
    if message.secret_encrypted is None:
        return message.body
    secret = vault.open_secret(message.secret_encrypted, message.reference)
    return message.body.replace(SECRET_MARKER, secret)


def set_status(message: OutboxMessage, status: OutboxStatus) -> None:
    """Give the message ``status``; a settled message's secret is erased for good.

    Every change of an outbox status goes through here, so that once a message is
    sent (or will never be), its body keeps codes and links redacted and nothing
    can restore them.
    """
    message.status = status
    if status in SETTLED:
        message.secret_encrypted = None


IN_FLIGHT = timedelta(minutes=4)
"""How long a message being sent holds back the ones behind it: longer than the slowest
gateway call (3.5 minutes with Twilio's retries), short enough that a message whose
process died mid-send does not hold the rest for long."""


def _part_of(message: QueuedMessage) -> tuple[int, datetime, OutboxKind]:
    """Which text a part belongs to: the parts of one text are queued together, for
    one number, of one kind, at one moment (:meth:`OutboxRepository.plan`)."""
    return message.contact_id, message.created_at, message.kind


_outbox_table: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_contact_table: Table = Contact.__table__  # type: ignore[attr-defined]

# Built once: the dispatcher asks on every round.
_ANY_DUE = (
    select(OutboxMessage.id)
    .where(
        OutboxMessage.status == OutboxStatus.PENDING,
        col(OutboxMessage.send_after) <= bindparam("now"),
    )
    .limit(1)
)
_RECENT_PROACTIVE = select(func.count(), func.min(OutboxMessage.claimed_at)).where(
    col(OutboxMessage.claimed_at) > bindparam("since"), col(OutboxMessage.paced)
)


_MESSAGE_COLUMNS = (
    col(OutboxMessage.id),
    col(OutboxMessage.contact_id),
    col(OutboxMessage.participant_id),
    col(OutboxMessage.reference),
    col(OutboxMessage.kind),
    col(OutboxMessage.body),
    col(OutboxMessage.secret_encrypted),
    col(OutboxMessage.ucs2),
    col(OutboxMessage.segments),
    col(OutboxMessage.always),
    col(OutboxMessage.paced),
    col(OutboxMessage.attempts),
    col(OutboxMessage.created_at),
)
""":class:`QueuedMessage`'s fields, in order."""
_CONTACT_COLUMNS = (
    col(Contact.id),
    col(Contact.phone_hash),
    col(Contact.phone_encrypted),
    col(Contact.stopped),
    col(Contact.erased_at),
)
""":class:`ClaimedContact`'s fields, in order."""


# Built once, like every statement direct_sql runs (one built per call is compiled per call).
_REST_OF_REPLIES = (
    columns(*_MESSAGE_COLUMNS)
    .where(
        col(OutboxMessage.contact_id).in_(bindparam("contacts", expanding=True)),
        col(OutboxMessage.id) > bindparam("last"),
        col(OutboxMessage.status) == OutboxStatus.PENDING,
        col(OutboxMessage.send_after) <= bindparam("now"),
        col(OutboxMessage.paced) == False,  # noqa: E712 (a SQL expression)
    )
    .order_by(col(OutboxMessage.id))
    .with_for_update(skip_locked=True)
)


@cache
def _due_statement(paced: bool) -> CoreSelect[*tuple[Any, ...]]:
    """Due messages of one queue and their contacts, locked, oldest first, up to ``:limit``.

    Read through ``ix_outbox_queue`` (status, paced, id) in id order, so the read stops
    once ``:limit`` rows qualify: read through ``ix_outbox_due`` instead, every due message
    was checked and sorted on every round. Built once per queue (cached), with ``:now`` and
    ``:in_flight_since`` as parameters: the dispatcher runs it on every round, and building
    a statement with two correlated subqueries costs more than running it.
    """
    now: BindParameter[datetime] = bindparam("now")
    return (
        columns(*_MESSAGE_COLUMNS, *_CONTACT_COLUMNS)
        .select_from(_outbox_table)
        .join(Contact, col(Contact.id) == col(OutboxMessage.contact_id))
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.paced) == paced,
            # Checked on the rows the queue gives, not sought: through ix_outbox_due,
            # SQLite's choice without statistics, every due message is read and sorted.
            NotFromIndex(col(OutboxMessage.send_after)) <= now,
            ~_waits_behind_a_retry(now),
            ~_behind_one_in_flight(bindparam("in_flight_since")),
        )
        .order_by(col(OutboxMessage.id))
        .limit(bindparam("limit"))
        .with_for_update(
            skip_locked=True,
            of=(_outbox_table, _contact_table),
        )
    )


def _behind_one_in_flight(since: BindParameter[datetime]) -> ColumnElement[bool]:
    """True for a message queued after one to the same number that a round of this or
    another process is sending (claimed, not yet recorded), when it is a later part of
    the same text or a message we start: it goes once that one went, never beside it.

    Replies to other texts are not held: a crash leaves its messages "sending" until
    they are marked "unknown", and the person's next answer must not wait for that.
    """
    earlier = aliased(OutboxMessage)
    same_text = and_(
        col(earlier.created_at) == col(OutboxMessage.created_at),
        col(earlier.kind) == col(OutboxMessage.kind),
    )
    return (
        select(earlier.id)
        .where(
            col(earlier.contact_id) == col(OutboxMessage.contact_id),
            col(earlier.id) < col(OutboxMessage.id),
            col(earlier.status) == OutboxStatus.SENDING,
            col(earlier.claimed_at) > since,
            or_(same_text, col(OutboxMessage.paced)),
        )
        .exists()
    )


def _waits_behind_a_retry(now: BindParameter[datetime]) -> ColumnElement[bool]:
    """True for a message with an earlier one to the same number that failed and waits for
    its retry: it goes after that one, as it was queued (an expiry notice must not arrive
    before the reminder that fell due earlier). A reply never waits behind a message we
    started, which could be held for quiet hours, since replies are never held.
    """
    earlier = aliased(OutboxMessage)
    return (
        select(earlier.id)
        .where(
            col(earlier.contact_id) == col(OutboxMessage.contact_id),
            col(earlier.id) < col(OutboxMessage.id),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.attempts) > 0,
            col(earlier.send_after) > now,
            or_(~col(earlier.paced), col(OutboxMessage.paced)),
        )
        .exists()
    )


_QUEUE = insert(_outbox_table).returning(_outbox_table.c.id, sort_by_parameter_order=True)
"""A message's parts, ids returned in the order of the rows given."""
_QUEUE_PLANNED = insert(_outbox_table)
"""Planned rows, a turn's or a group's: an executemany, ids not needed."""
_TAKE = (
    update(_outbox_table)
    .where(_outbox_table.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=OutboxStatus.SENDING,
        claimed_at=bindparam("now"),
        attempts=_outbox_table.c.attempts + 1,
    )
)
_SETTLE = (
    update(_outbox_table)
    .where(_outbox_table.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=bindparam("status"), secret_encrypted=None, claimed_at=None)
)
_RELEASE = (
    update(_outbox_table)
    .where(_outbox_table.c.id == bindparam("message_id"))
    .values(
        status=OutboxStatus.PENDING,
        attempts=_outbox_table.c.attempts - 1,
        claimed_at=None,
        send_after=bindparam("until"),
    )
)
_MARK_SENT = (
    update(_outbox_table)
    .where(_outbox_table.c.id == bindparam("message_id"))
    .values(
        status=OutboxStatus.SENT,
        provider_id=bindparam("provider"),
        sent_at=bindparam("now"),
        secret_encrypted=None,
    )
)
