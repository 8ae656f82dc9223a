"""Password hashing (Argon2id) and TOTP codes for staff accounts."""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
"""argon2-cffi's defaults: Argon2id with the RFC 9106 low-memory profile."""
_DUMMY = _HASHER.hash("a password nobody has: keeps unknown emails as slow as known ones")


async def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (``$argon2id$...``), computed off the event loop."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def password_matches(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with nothing stored, as slow as a real check."""
    try:
        return await asyncio.to_thread(_HASHER.verify, stored or _DUMMY, password) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` address authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="consentbot")


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step ``code`` belongs to (this one, or one either side for clock drift);
    None if it matches none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    cleaned = code.strip().replace(" ", "")
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None
