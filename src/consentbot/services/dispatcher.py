"""Send queued messages through the configured gateway, after the commit that queued them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.channels.gateway import (
    GatewayError,
    OutboundSms,
    OutcomeUnknown,
    RecipientOptedOut,
    SmsGateway,
)
from consentbot.content.live import Studies
from consentbot.domain.delivery import report_advances
from consentbot.domain.outbox import PROACTIVE, OutboxStatus
from consentbot.domain.send_rate import SendRate, SharedRate
from consentbot.domain.stopping import StopSource
from consentbot.metrics import Metrics
from consentbot.services.announcement_sending import drop_unwanted_announcements
from consentbot.services.clock import Clock
from consentbot.services.unknown_outbox import STUCK_CHECK_EVERY, mark_stuck
from consentbot.services.wakeup import Wakeup
from consentbot.store.contacts import ContactRepository
from consentbot.store.crypto import PhoneVault, SecretKeyError
from consentbot.store.database import Database
from consentbot.store.outbox import ClaimedMessage, OutboxRepository, reveal, set_status
from consentbot.store.participants import ParticipantRepository
from consentbot.store.tables import OutboxMessage

log = structlog.get_logger(__name__)

_FAILURE_OUTCOMES = {
    OutboxStatus.OPTED_OUT: "opted_out",
    OutboxStatus.UNKNOWN: "unknown",
    OutboxStatus.PENDING: "retry",
    OutboxStatus.FAILED: "failed",
}
"""A failed send attempt, as ``consentbot_sms`` counts it, by where it left the message."""


BATCH = 100
"""Messages claimed in one round. Each round writes twice (the claim, then what was sent),
and on SQLite each write waits for its own disk flush with the single writer lock held:
rounds of 100 rather than 50 sent a cohort's reminders 5 % faster (timers benchmark),
while a reply claimed with them still goes within the round, never behind the pacing."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What happened to one claimed message in a dispatch round."""

    message_id: int
    provider_id: str | None = None
    error: GatewayError | None = None
    held: bool = False
    """Not sent because an earlier message to the same number failed."""


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """A claimed message with its number and text decrypted, ready for the gateway."""

    item: ClaimedMessage
    phone: str
    text: str


class OutboxDispatcher:
    """Claims due messages and sends them; at most once each.

    A message is marked "sending" before it is handed to the gateway, so a crash
    mid-send never sends it twice; only errors the gateway calls retryable (429, 5xx)
    put it back, with a growing delay. When the gateway cannot say whether it took
    the message (:class:`OutcomeUnknown`) it is marked "unknown" and left alone.

    Messages we start (invitations, reminders, notices) go at no more than ``send_rate``
    a second, paced by a token bucket on the ``monotonic`` clock: a round claims only as
    many as the bucket allows, and replies besides, so a reply never waits behind a
    cohort's invitations. The rate holds across processes too (``serve`` and
    ``consentbot invite --file`` at once): a round also claims no more than the messages
    every process claimed in the last second leave (:class:`SharedRate`).
    """

    def __init__(
        self,
        db: Database,
        gateway: SmsGateway,
        vault: PhoneVault,
        clock: Clock,
        studies: Studies,
        *,
        max_attempts: int = 5,
        batch: int = BATCH,
        concurrency: int = 8,
        send_rate: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics if metrics is not None else Metrics()
        self.gateway = gateway
        self.vault = vault
        self.clock = clock
        self.studies = studies
        self.max_attempts = max_attempts
        self.batch = batch
        self._limit = asyncio.Semaphore(concurrency)
        self._wakeup = Wakeup()
        self._pace = SendRate(send_rate) if send_rate is not None else None
        self._shared = SharedRate(send_rate) if send_rate is not None else None
        self._shared_free_at: datetime | None = None
        """Other processes' claims (or ours) fill the shared window until then."""
        self._monotonic = monotonic
        self._paced = False
        """The last round left messages we start waiting for the send rate."""

    def wake(self) -> None:
        """Ask for a dispatch round now (called after a commit that queued messages)."""
        self._wakeup.ring()

    async def run(self, interval: float) -> None:
        """Dispatch whenever woken, and at least every ``interval`` seconds.

        At start and every minute, first mark messages stuck in "sending" as "unknown".
        """
        await self._mark_stuck()
        next_look = self.clock() + STUCK_CHECK_EVERY
        while True:
            woken = await self._wakeup.wait(self.pause(interval))
            if self.clock() >= next_look:
                await self._mark_stuck()
                next_look = self.clock() + STUCK_CHECK_EVERY
            try:
                # Woken by a commit that queued messages, or after a full round: something
                # is due, so the round goes straight to claiming, without the read that
                # asks first (a cohort's thousands of messages go in full rounds).
                look_first = not woken
                while await self.dispatch_once(look_first=look_first) >= self.batch:
                    look_first = False
            except Exception:
                log.exception("outbox.dispatch_failed")

    def pause(self, interval: float) -> float:
        """How long to wait before the next round: ``interval``, or less when messages we
        start are waiting for the send rate (until the bucket allows the next one and, when
        every process's claims fill the last second, until the oldest leaves it)."""
        if self._pace is None or not self._paced:
            return interval
        wait = self._pace.wait(self._monotonic())
        if self._shared_free_at is not None:
            wait = max(wait, (self._shared_free_at - self.clock()).total_seconds())
        return max(0.0, min(interval, wait))

    async def drain(self) -> None:
        """Send everything that may go now, waiting for the send rate where it holds
        messages back; return once nothing is left to send before its time (quiet hours,
        a retry's delay). For commands, which have no background loop."""
        look_first = True
        while True:
            claimed = await self.dispatch_once(look_first=look_first)
            # After a full round more are waiting: the next claims without asking first.
            look_first = claimed < self.batch
            if claimed:
                continue
            if not self._paced:
                return
            await asyncio.sleep(self.pause(1.0))

    @property
    def paced(self) -> bool:
        """Whether the last round left messages we start waiting for the send rate."""
        return self._paced

    async def _mark_stuck(self) -> None:
        try:
            stuck = await mark_stuck(self.db, self.clock)
            self.metrics.sms_outcome(self.gateway.name, "unknown", stuck)
        except Exception:
            log.exception("outbox.stuck_check_failed")

    async def dispatch_once(self, *, look_first: bool = True) -> int:
        """Send one batch of due messages; return how many were claimed.

        ``look_first``: read whether anything is due before taking the write lock to claim
        it (the usual case, a timed round); False when a commit just queued messages.
        """
        now = self.clock()
        self._paced = False
        if look_first:
            async with self.db.read() as session:
                if not await OutboxRepository(session).any_due(now):
                    return 0
        allowed = self._pace.available(self._monotonic()) if self._pace else None
        self._shared_free_at = None
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            if allowed is not None:
                # Claims must be stamped in the order they are made, or one could leave the
                # shared window early: read the time once this transaction holds the write
                # lock (SQLite) and the pacing lock (PostgreSQL), not before waiting for them.
                await outbox.lock_pacing()
                now = self.clock()
                allowed = min(allowed, await self._shared_allowance(outbox, now, allowed))
            claim = await outbox.claim_due(now, self.batch, proactive_limit=allowed)
            claimed = await self._hold_for_quiet_hours(session, claim.messages, now)
            claimed = await drop_unwanted_announcements(session, claimed)
            outgoing, unreadable = self._open(ContactRepository(session, self.vault), claimed)
        if self._pace is not None and allowed is not None:
            # Sent, suppressed or held for quiet hours: what was taken shows whether the
            # rate held anything back. Only what really goes takes a token.
            self._paced = allowed < self.batch and claim.proactive_taken >= allowed
            going = sum(1 for each in outgoing if each.item.message.kind in PROACTIVE)
            self._pace.take(going, self._monotonic())
        # One number's messages go in order (a long reply's parts must not overtake
        # each other); different numbers are sent concurrently.
        by_number: dict[str, list[_Outgoing]] = {}
        for each in outgoing:
            by_number.setdefault(each.phone, []).append(each)
        rounds = await asyncio.gather(*(self._send_in_order(items) for items in by_number.values()))
        # One write for the whole batch: on SQLite every transaction queues for the lock.
        await self._record([*unreadable, *(outcome for outcomes in rounds for outcome in outcomes)])
        return len(claimed)

    async def _shared_allowance(self, outbox: OutboxRepository, now: datetime, wanted: int) -> int:
        """What every process's claims in the last second leave for this round.

        The caller holds the pacing lock, so the count stays true while this round claims.
        When this round may fill the window, remember when it frees: the run loop and
        :meth:`drain` wait until then rather than asking again at once.
        """
        assert self._shared is not None
        recent, oldest = await outbox.recent_proactive(self._shared.since(now))
        allowance = self._shared.allowance(recent)
        if allowance <= wanted:
            self._shared_free_at = self._shared.free_at(oldest, now)
        return allowance

    def _open(
        self, contacts: ContactRepository, claimed: list[ClaimedMessage]
    ) -> tuple[list[_Outgoing], list[_Outcome]]:
        """Decrypt each message's number and secret; one that cannot be decrypted fails alone.

        Only a missing key does that (removed before ``keys rotate`` had finished):
        failing the message, loudly, lets every other message go.
        """
        outgoing: list[_Outgoing] = []
        unreadable: list[_Outcome] = []
        for item in claimed:
            try:
                phone = contacts.phone(item.contact)
                outgoing.append(_Outgoing(item, phone, reveal(item.message, self.vault)))
            except SecretKeyError as error:
                # The error names a key id and what failed, never a number or a text.
                log.error("outbox.undecryptable", message=item.message.id, error=str(error))
                failure = GatewayError(str(error), retryable=False, code="undecryptable")
                unreadable.append(_Outcome(item.message.id, error=failure))
        return outgoing, unreadable

    async def _hold_for_quiet_hours(
        self, session: AsyncSession, claimed: list[ClaimedMessage], now: datetime
    ) -> list[ClaimedMessage]:
        """Hold messages we started (invitations, reminders, notices) until quiet hours end.

        Checked at send time, the one place that knows when a message really goes:
        a reminder due at night, or one delayed by downtime, waits for the morning.
        Replies to the person's own message are never held.
        """
        proactive = [c for c in claimed if c.message.kind in PROACTIVE and c.message.participant_id]
        if not proactive:
            return claimed
        if not any(study.quiet_hours is not None for study in self.studies.studies.values()):
            # No study keeps quiet hours: nothing to hold, so no need to read whose study
            # each message is (a query a round, on every round of a cohort's invitations).
            return claimed
        studies = await ParticipantRepository(session).study_ids(
            {c.message.participant_id or 0 for c in proactive}
        )
        held: dict[int, datetime] = {}
        for item in proactive:
            study = self.studies.get(studies.get(item.message.participant_id or 0, ""))
            if study is None or study.quiet_hours is None:
                continue
            allowed = study.quiet_hours.next_allowed(now, study.timezone)
            if allowed > now:
                # Not handed to the gateway: it takes no room in the shared send rate.
                held[item.message.id] = allowed
        await OutboxRepository(session).release(list(held.items()))
        return [item for item in claimed if item.message.id not in held]

    async def _send_in_order(self, items: list[_Outgoing]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        for index, each in enumerate(items):
            outcome = await self._send(each)
            outcomes.append(outcome)
            if outcome.error is not None:
                # Hold the rest so nothing arrives before the part that failed.
                outcomes.extend(
                    _Outcome(later.item.message.id, held=True) for later in items[index + 1 :]
                )
                break
        return outcomes

    async def _send(self, outgoing: _Outgoing) -> _Outcome:
        message = outgoing.item.message
        outbound = OutboundSms(
            to=outgoing.phone, text=outgoing.text, reference=message.reference, ucs2=message.ucs2
        )
        async with self._limit:
            try:
                with self.metrics.timing_send(self.gateway.name):
                    provider_id = await self.gateway.send(outbound)
            except GatewayError as error:
                return _Outcome(message.id, error=error)
            except Exception as crash:
                # No traceback: a gateway's request (Kannel's sendsms URL) carries the number.
                log.error("outbox.gateway_crashed", message=message.id, error=type(crash).__name__)
                return _Outcome(message.id, error=GatewayError("gateway crashed", retryable=False))
        log.info("outbox.sent", message=message.id, kind=message.kind, segments=message.segments)
        self.metrics.sms_outcome(self.gateway.name, "sent")
        return _Outcome(message.id, provider_id=provider_id)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.clock()
        retry_at: dict[int, datetime] = {}
        sent = [(o.message_id, o.provider_id) for o in outcomes if o.provider_id is not None]
        others = [outcome for outcome in outcomes if outcome.provider_id is None]
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            await outbox.mark_sent(sent, now)
            # One read for the round's others, not one per message: a cohort's rounds are full.
            rows = await outbox.by_ids([outcome.message_id for outcome in others])
            for outcome in others:
                stored = rows[outcome.message_id]
                if outcome.held:
                    set_status(stored, OutboxStatus.PENDING)
                    stored.attempts -= 1  # never handed to the gateway
                    stored.send_after = retry_at.get(stored.contact_id, now)
                elif outcome.error is not None:
                    await self._failed(session, stored, outcome.error, now)
                    retry_at[stored.contact_id] = stored.send_after
                session.add(stored)

    async def _failed(
        self, session: AsyncSession, stored: OutboxMessage, error: GatewayError, now: datetime
    ) -> None:
        stored.error_code = error.code
        if isinstance(error, RecipientOptedOut):
            set_status(stored, OutboxStatus.OPTED_OUT)
            contacts = ContactRepository(session, self.vault)
            contact = await contacts.get(stored.contact_id)
            if contact is not None:
                # The carrier says they sent STOP there: respect it here too.
                contacts.stop(contact, StopSource.CARRIER, now)
        elif isinstance(error, OutcomeUnknown):
            set_status(stored, OutboxStatus.UNKNOWN)
        elif error.retryable and stored.attempts < self.max_attempts:
            set_status(stored, OutboxStatus.PENDING)
            stored.send_after = now + timedelta(seconds=2**stored.attempts)
        else:
            set_status(stored, OutboxStatus.FAILED)
        self.metrics.sms_outcome(self.gateway.name, _FAILURE_OUTCOMES[stored.status])
        log.warning(
            "outbox.send_failed",
            message=stored.id,
            code=error.code,
            retryable=error.retryable,
            status=stored.status,
        )

    async def record_delivery(self, provider_id: str, status: str, error_code: str | None) -> None:
        """A gateway's delivery report by its own message id (Twilio's MessageSid).

        Error 21610 means the person sent STOP at the carrier.
        """
        await self._record_delivery(
            lambda outbox: outbox.by_provider_id(provider_id, lock=True), status, error_code
        )

    async def record_delivery_for_reference(
        self, reference: str, status: str, error_code: str | None
    ) -> None:
        """A delivery report naming our outbox reference (Kannel's dlr-url, Notify's receipts)."""
        await self._record_delivery(
            lambda outbox: outbox.by_reference(reference, lock=True), status, error_code
        )

    async def _record_delivery(
        self,
        find: Callable[[OutboxRepository], Awaitable[OutboxMessage | None]],
        status: str,
        error_code: str | None,
    ) -> None:
        """Record a report unless it would move the message backwards (late or repeated).

        The row is locked so two reports at once cannot both pass the check.
        """
        now = self.clock()
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            message = await find(outbox)
            if message is None:
                log.info("outbox.delivery_unknown_message")
                return
            if not report_advances(message.delivery_status, status):
                log.info(
                    "outbox.delivery_not_newer",
                    message=message.id,
                    status=status,
                    recorded=message.delivery_status,
                )
                return
            message.delivery_status = status
            message.error_code = error_code
            if message.status == OutboxStatus.UNKNOWN:
                # Only reports by reference (Kannel, Notify) can find such a row: it did go.
                set_status(message, OutboxStatus.SENT)
                log.info("outbox.unknown_resolved", message=message.id)
            session.add(message)
            if error_code == "21610":
                contacts = ContactRepository(session, self.vault)
                contact = await contacts.get(message.contact_id, lock=True)
                if contact is not None and not contact.stopped:
                    contacts.stop(contact, StopSource.CARRIER, now)
        log.info("outbox.delivery", message=message.id, status=status, code=error_code)
