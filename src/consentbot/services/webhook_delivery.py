"""Deliver queued consent changes to webhooks: at least once, in order per participant.

The loop in ``serve`` is woken right after a commit that may have queued deliveries (the
same call that wakes the SMS dispatcher), and looks every ``interval`` seconds besides. A
round claims due deliveries (SKIP LOCKED on PostgreSQL, so several processes share the
work), commits the claim, posts each one, and records each answer as it comes. A claim is a lease:
a process that dies mid-attempt leaves the delivery to be tried again when it ends, so a
receiver may see a delivery twice (the ``webhook-id`` stays the same) but never miss one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
import structlog

from consentbot.domain.webhooks import DeliveryStatus, next_attempt, signed_headers
from consentbot.services.clock import Clock
from consentbot.services.wakeup import Wakeup
from consentbot.store.crypto import PhoneVault, SecretKeyError
from consentbot.store.database import Database
from consentbot.store.webhooks import WebhookRepository, webhook_aad

log = structlog.get_logger(__name__)

REQUEST_TIMEOUT = 10.0
"""Seconds a receiver has to answer one attempt."""
LEASE = timedelta(minutes=2)
"""How long a claimed delivery is left to the process that claimed it: well over a request."""
MAX_ROUNDS = 4
"""Rounds running at once in one process (each claims up to ``batch`` deliveries)."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    """A claimed delivery with what is needed to post it, read inside the claim."""

    delivery_id: int
    webhook_id: int
    attempts: int
    message_id: str
    body: str
    url: str
    secret_encrypted: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Result:
    attempt: _Attempt
    error: str | None
    """None when the receiver answered 2xx; else what went wrong (no response body)."""


class WebhookDeliverer:
    """Claims due deliveries, signs and posts them, and settles or reschedules each one."""

    def __init__(
        self,
        db: Database,
        client: aiohttp.ClientSession,
        vault: PhoneVault,
        clock: Clock,
        *,
        batch: int = 50,
        concurrency: int = 8,
        timeout: float = REQUEST_TIMEOUT,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.client = client
        self.vault = vault
        self.clock = clock
        self.batch = batch
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.jitter = jitter
        self._limit = asyncio.Semaphore(concurrency)
        self._wakeup = Wakeup()

    def wake(self) -> None:
        """Ask for a round now (called after a commit that may have queued deliveries)."""
        self._wakeup.ring()

    async def run(self, interval: float) -> None:
        """Start a round whenever woken, and at least every ``interval`` seconds.

        Rounds run side by side (up to ``MAX_ROUNDS``): a receiver that takes its full
        timeout holds back only its own round, so a withdrawal queued meanwhile still goes
        at once. Each delivery accepted wakes the loop again, for the participant's next
        change waiting behind it.
        """
        rounds: set[asyncio.Task[None]] = set()
        try:
            while True:
                await self._wakeup.wait(interval)
                if len(rounds) < MAX_ROUNDS:
                    task = asyncio.create_task(self._round(), name="webhook-round")
                    rounds.add(task)
                    task.add_done_callback(rounds.discard)
        finally:
            for task in rounds:
                task.cancel()
            await asyncio.gather(*rounds, return_exceptions=True)

    async def _round(self) -> None:
        try:
            await self.deliver_once()
        except Exception:
            log.exception("webhook.round_failed")

    async def deliver_due(self) -> None:
        """Rounds until nothing more is due: a delivery accepted frees the participant's next."""
        while await self.deliver_once():
            pass

    async def deliver_once(self) -> int:
        """One round: claim what is due, post each (settling each as its answer comes);
        returns how many deliveries were accepted."""
        now = self.clock()
        async with self.db.read() as session:
            if not await WebhookRepository(session).any_due(now):
                return 0
        attempts = await self._claim(now)
        if not attempts:
            return 0
        accepted = await asyncio.gather(*(self._attempt(attempt) for attempt in attempts))
        return sum(accepted)

    async def _attempt(self, attempt: _Attempt) -> bool:
        result = await self._post(attempt)
        await self._settle(result)
        if result.error is None:
            self.wake()  # the participant's next change may be waiting behind this one
        return result.error is None

    async def _claim(self, now: datetime) -> list[_Attempt]:
        async with self.db.transaction() as session:
            claimed = await WebhookRepository(session).claim_due(now, now + LEASE, self.batch)
            return [
                _Attempt(
                    delivery_id=delivery.id or 0,
                    webhook_id=webhook.id or 0,
                    attempts=delivery.attempts,
                    message_id=delivery.message_id,
                    body=delivery.body,
                    url=webhook.url,
                    secret_encrypted=webhook.secret_encrypted,
                    created_at=delivery.created_at,
                )
                for delivery, webhook in claimed
            ]

    async def _post(self, attempt: _Attempt) -> _Result:
        try:
            secret = self.vault.open_secret(
                attempt.secret_encrypted, webhook_aad(attempt.webhook_id)
            )
        except SecretKeyError:
            return _Result(attempt, "undecryptable secret")
        headers = signed_headers(secret, attempt.message_id, self.clock(), attempt.body)
        headers["content-type"] = "application/json"
        async with self._limit:
            try:
                async with self.client.post(
                    attempt.url,
                    data=attempt.body.encode(),
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                ) as response:
                    status = response.status
            except TimeoutError:
                return _Result(attempt, "timeout")
            except aiohttp.ClientError as error:
                return _Result(attempt, type(error).__name__[:64])
        return _Result(attempt, None if 200 <= status < 300 else f"HTTP {status}")

    async def _settle(self, result: _Result) -> None:
        attempt = result.attempt
        now = self.clock()
        async with self.db.transaction() as session:
            webhooks = WebhookRepository(session)
            delivery = await webhooks.lock_claimed(attempt.delivery_id, attempt.attempts)
            if delivery is None:
                return  # the lease ran out and another round took it over
            if result.error is None:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = now
                delivery.last_error = None
            else:
                retry = next_attempt(attempt.created_at, now, attempt.attempts, self.jitter())
                delivery.last_error = result.error
                if retry is None:
                    delivery.status = DeliveryStatus.FAILED
                else:
                    delivery.next_attempt_at = retry
            session.add(delivery)
        self._log(result, delivery.status)

    @staticmethod
    def _log(result: _Result, status: DeliveryStatus) -> None:
        attempt = result.attempt
        fields = {
            "webhook": attempt.webhook_id,
            "delivery": attempt.delivery_id,
            "attempt": attempt.attempts,
        }
        if result.error is None:
            log.info("webhook.delivered", **fields)
        elif status is DeliveryStatus.FAILED:
            log.error("webhook.gave_up", error=result.error, **fields)
        else:
            log.warning("webhook.attempt_failed", error=result.error, **fields)
