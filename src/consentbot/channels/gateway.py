"""The contract every SMS gateway adapter keeps.

Inbound: an adapter turns its protocol's request into an :class:`InboundSms` and
hands it to an :data:`InboundHandler` (the consent service). Outbound: the outbox
dispatcher calls :meth:`SmsGateway.send` once per message. Adapters know nothing
about consent, conversations or the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class InboundSms:
    """One message a person sent, as the gateway delivered it.

    ``gateway_message_id`` is the gateway's own id (Twilio's MessageSid, Kannel's
    message id); inbound handling is idempotent on ``(gateway, gateway_message_id)``.
    ``sender`` is the phone number as the gateway wrote it (normalised later).
    """

    gateway: str
    gateway_message_id: str
    sender: str
    recipient: str
    text: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """One message to send. ``reference`` is our outbox id, echoed in status callbacks."""

    to: str
    text: str
    reference: str
    ucs2: bool


class GatewayError(Exception):
    """Sending failed. ``retryable`` says whether trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class RecipientOptedOut(GatewayError):
    """The carrier or provider refuses: the person replied STOP at the carrier (Twilio 21610)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, retryable=False, code=code)


class OutcomeUnknown(GatewayError):
    """The request may have reached the provider, but its answer never came (a timeout, a
    dropped connection): the message may have gone. Never retried, since the provider
    cannot tell a retry from a second message; the outbox marks it ``unknown``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class SmsGateway(Protocol):
    """An outbound SMS gateway."""

    name: str

    async def send(self, message: OutboundSms) -> str:
        """Send one message; return the provider's id for it.

        Raises :class:`GatewayError` (or :class:`RecipientOptedOut`) on failure, and
        :class:`OutcomeUnknown` when the message may have been accepted after all.
        """
        ...


InboundHandler = Callable[[InboundSms], Awaitable[None]]
"""Receives one inbound message; commits its effects before returning."""

DeliveryHandler = Callable[[str, str, str | None], Awaitable[None]]
"""Receives a delivery status: (provider message id, status, provider error code or None)."""
