"""Twilio's ``X-Twilio-Signature`` for form-encoded POST webhooks.

Twilio signs the full URL it sent the webhook to (scheme, host, path and query
string) followed by every POST parameter's name and value, sorted by name (the
values of a repeated name in sorted order), with no delimiters; the signature
is the base64 of the HMAC-SHA1 of that string keyed with the account's auth
token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import TypeAlias

SIGNATURE_HEADER = "X-Twilio-Signature"
"""The request header Twilio puts the signature in."""

Params: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""POST parameters: a mapping, or (name, value) pairs when a name may repeat."""


def signing_string(url: str, params: Params) -> str:
    """The string Twilio signs: ``url``, then each parameter's name and value, sorted."""
    pairs = params.items() if isinstance(params, Mapping) else params
    return url + "".join(name + value for name, value in sorted(pairs))


def compute_signature(auth_token: str, url: str, params: Params) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a POST of ``params`` to ``url``."""
    digest = hmac.new(
        auth_token.encode("utf-8"), signing_string(url, params).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid_signature(auth_token: str, url: str, params: Params, signature: str | None) -> bool:
    """Whether ``signature`` is Twilio's for this request; a missing one is never valid.

    Compares in constant time so the response time says nothing of how much matched.
    """
    if not signature:
        return False
    expected = compute_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8"))
