"""How a turn reached us and who the person was shown to be: recorded on every ledger event."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """Where a turn came from. Values are stored in the ledger."""

    SMS_TWILIO = "sms:twilio"
    SMS_KANNEL = "sms:kannel"
    SMS_NOTIFY = "sms:notify"
    SMS_CONSOLE = "sms:console"
    WEB = "web"
    SCHEDULER = "scheduler"
    API = "api"
    CLI = "cli"
    ASSISTED = "assisted"

    @classmethod
    def sms(cls, gateway: str) -> Channel:
        """The channel of an SMS gateway by its name (``twilio``, ``kannel``, ``notify``, ``console``)."""
        return cls(f"sms:{gateway}")

    @property
    def is_sms(self) -> bool:
        """True for a message from the person's own phone."""
        return self.value.startswith("sms:")


class Auth(StrEnum):
    """How the person behind a turn was identified. Values are stored in the ledger."""

    SMS = "sms"
    """A message from their number, delivered by an authenticated gateway."""
    SMS_CODE = "sms-code"
    """A web session linked to their number by a one-time code texted to it."""
    LINK = "link"
    """A web session opened from the personal link texted to their number."""
    ASSISTED = "assisted"
    """In person, with a community worker (``assisted_by`` names them)."""
    SYSTEM = "system"
    """Not the person: a timer, an invitation, an erasure request served by staff."""


class ConfirmedVia(StrEnum):
    """How a confirmation a worker recorded was given (the person has no phone of their own).

    Values are stored in the ledger as ``confirmed_via``.
    """

    IN_PERSON = "in-person"
    PHONE_CALL = "phone-call"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who acted, on which channel, identified how: written on every ledger event."""

    channel: Channel
    actor: str
    auth: Auth
    assisted_by: str | None = None
    confirmed_via: ConfirmedVia | None = None
    """Set only when a worker records a confirmation given in person or by a phone call."""
