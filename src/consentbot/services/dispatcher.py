"""Send queued messages through the configured gateway, after the commit that queued them."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog

from consentbot.channels.gateway import GatewayError, OutboundSms, RecipientOptedOut, SmsGateway
from consentbot.services.clock import Clock
from consentbot.store.contacts import ContactRepository
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.outbox import ClaimedMessage, OutboxRepository

log = structlog.get_logger(__name__)


class OutboxDispatcher:
    """Claims due messages and sends them; at most once each.

    A message is marked "sending" before it is handed to the gateway, so a crash
    mid-send never sends it twice; only errors the gateway calls retryable (429, 5xx)
    put it back, with a growing delay.
    """

    def __init__(
        self,
        db: Database,
        gateway: SmsGateway,
        vault: PhoneVault,
        clock: Clock,
        *,
        max_attempts: int = 5,
        batch: int = 50,
        concurrency: int = 8,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.vault = vault
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch = batch
        self._limit = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask for a dispatch round now (called after a commit that queued messages)."""
        self._wake.set()

    async def run(self, interval: float) -> None:
        """Dispatch whenever woken, and at least every ``interval`` seconds."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
            try:
                while await self.dispatch_once() == self.batch:
                    pass
            except Exception:
                log.exception("outbox.dispatch_failed")

    async def dispatch_once(self) -> int:
        """Send one batch of due messages; return how many were claimed."""
        async with self.db.transaction() as session:
            claimed = await OutboxRepository(session).claim_due(self.clock(), self.batch)
            contacts = ContactRepository(session, self.vault)
            outgoing = [(item, contacts.phone(item.contact)) for item in claimed]
        # One number's messages go in order (a long reply's parts must not overtake
        # each other); different numbers are sent concurrently.
        by_number: dict[str, list[ClaimedMessage]] = {}
        for item, phone in outgoing:
            by_number.setdefault(phone, []).append(item)
        await asyncio.gather(
            *(self._send_in_order(phone, items) for phone, items in by_number.items())
        )
        return len(claimed)

    async def _send_in_order(self, phone: str, items: list[ClaimedMessage]) -> None:
        for item in items:
            await self._send(item, phone)

    async def _send(self, item: ClaimedMessage, phone: str) -> None:
        message = item.message
        assert message.id is not None
        outbound = OutboundSms(
            to=phone, text=message.body, reference=str(message.id), ucs2=message.ucs2
        )
        async with self._limit:
            try:
                provider_id = await self.gateway.send(outbound)
            except GatewayError as error:
                await self._failed(message.id, error)
                return
            except Exception:
                log.exception("outbox.gateway_crashed", message=message.id)
                await self._failed(message.id, GatewayError("gateway crashed", retryable=False))
                return
        async with self.db.transaction() as session:
            stored = await OutboxRepository(session).get(message.id)
            assert stored is not None
            stored.status = "sent"
            stored.provider_id = provider_id
            stored.sent_at = self.clock()
            session.add(stored)
        log.info("outbox.sent", message=message.id, kind=message.kind, segments=message.segments)

    async def _failed(self, message_id: int, error: GatewayError) -> None:
        now = self.clock()
        async with self.db.transaction() as session:
            stored = await OutboxRepository(session).get(message_id)
            assert stored is not None
            stored.error_code = error.code
            if isinstance(error, RecipientOptedOut):
                stored.status = "opted-out"
                contact = await ContactRepository(session, self.vault).get(stored.contact_id)
                if contact is not None:
                    # The carrier says they sent STOP there: respect it here too.
                    contact.stopped = True
                    contact.stopped_at = now
                    session.add(contact)
            elif error.retryable and stored.attempts < self.max_attempts:
                stored.status = "pending"
                stored.send_after = now + timedelta(seconds=2**stored.attempts)
            else:
                stored.status = "failed"
            session.add(stored)
        log.warning(
            "outbox.send_failed",
            message=message_id,
            code=error.code,
            retryable=error.retryable,
            status=stored.status,
        )

    async def record_delivery(self, provider_id: str, status: str, error_code: str | None) -> None:
        """A gateway's delivery report; error 21610 means the person sent STOP at the carrier."""
        now = self.clock()
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            message = await outbox.by_provider_id(provider_id)
            if message is None:
                log.info("outbox.delivery_unknown_message")
                return
            message.delivery_status = status
            message.error_code = error_code
            session.add(message)
            if error_code == "21610":
                contacts = ContactRepository(session, self.vault)
                contact = await contacts.get(message.contact_id, lock=True)
                if contact is not None and not contact.stopped:
                    await contacts.set_stopped(contact, True, now)
        log.info("outbox.delivery", message=message.id, status=status, code=error_code)
