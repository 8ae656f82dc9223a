"""Domain exceptions that handlers turn into clear HTTP answers."""

from __future__ import annotations


class ServiceError(Exception):
    """Base for errors a caller can fix. ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownStudy(ServiceError):
    """No study with that id."""


class UnknownParticipant(ServiceError):
    """No participant with that reference in that study."""


class InvalidInput(ServiceError):
    """A value is malformed (a phone number, a language code)."""


class Conflict(ServiceError):
    """The request contradicts what is stored (a reference used for another number)."""


class RateLimited(ServiceError):
    """Too many attempts in a period; try again later."""


class CodeRejected(ServiceError):
    """A one-time code is wrong, used up or expired."""


class SessionExpired(ServiceError):
    """The web session is unknown or has expired."""


class UnknownToken(ServiceError):
    """No API token with that id."""
