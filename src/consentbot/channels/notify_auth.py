"""GOV.UK Notify's credentials: the API key as Notify issues it, and the JWT made from it.

A key reads ``{name}-{service id}-{secret}``: the name is whatever the team called the
key (it may hold hyphens), the service id and the secret are UUIDs. Every request to
Notify carries ``Authorization: Bearer <JWT>``, an HS256 token signed with the secret
whose claims are ``{"iss": service id, "iat": now}``; Notify refuses one whose ``iat``
is more than 30 seconds from its own clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import jwt

__all__ = ["DEFAULT_API_BASE", "UUID_PATTERN", "ApiKeyError", "NotifyApiKey", "is_uuid"]

UUID_PATTERN: Final = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID: Final = re.compile(f"^{UUID_PATTERN}$")
_KEY: Final = re.compile(
    f"^(?:(?P<name>.*)-)?(?P<service>{UUID_PATTERN})-(?P<secret>{UUID_PATTERN})$"
)
JWT_ALGORITHM: Final = "HS256"
DEFAULT_API_BASE: Final = "https://api.notifications.service.gov.uk"


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID written the usual way (36 characters, hyphenated)."""
    return _UUID.match(value) is not None


class ApiKeyError(ValueError):
    """The API key is malformed. The message never quotes the key (it holds the secret)."""


@dataclass(frozen=True)
class NotifyApiKey:
    """A parsed Notify API key. ``secret`` stays out of ``repr``: it signs every request."""

    name: str
    service_id: str
    secret: str = field(repr=False)

    @classmethod
    def parse(cls, key: str) -> NotifyApiKey:
        """Split ``{name}-{service id}-{secret}``; the last two parts are 36-character UUIDs.

        Raises :class:`ApiKeyError` saying what is wrong, without quoting the key.
        """
        # Stripped first, so a name of only spaces leaves a key that starts with its hyphen.
        found = _KEY.match(key.strip())
        if found is None:
            raise ApiKeyError(
                "is not a Notify API key: it must end with the service id and the secret, two "
                "UUIDs like 01234567-89ab-cdef-0123-456789abcdef joined by a hyphen, as Notify's "
                "API integration page shows the whole key"
            )
        return cls(found["name"] or "", found["service"].lower(), found["secret"].lower())

    def bearer_token(self, now: Callable[[], float] = time.time) -> str:
        """A fresh JWT for the ``Authorization: Bearer`` header.

        ``now`` is the wall clock (seconds since the epoch), never the service's own clock:
        Notify compares ``iat`` with the real time.
        """
        claims = {"iss": self.service_id, "iat": int(now())}
        return jwt.encode(claims, self.secret, algorithm=JWT_ALGORITHM)
