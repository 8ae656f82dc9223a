"""One-time codes that prove a web visitor holds a phone number."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from consentbot.store.crypto import PhoneVault
from consentbot.store.tables import PhoneVerification

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**6):06d}"


def _salt(web_session_id: int) -> str:
    # Not the phone hash: ``keys rotate`` rewrites that while a code may be waiting.
    return f"web-session:{web_session_id}"


class VerificationRepository:
    """Issue, count and check codes.

    A code is stored only as a keyed hash (an unkeyed hash of six digits is as good as
    the digits), bound to the web session it was asked for.
    """

    def __init__(self, session: AsyncSession, vault: PhoneVault) -> None:
        self.session = session
        self.vault = vault

    async def issue(
        self,
        web_session_id: int,
        phone_hash: str,
        phone_encrypted: str,
        client_hash: str,
        code: str,
        now: datetime,
    ) -> PhoneVerification:
        """Store a code (keyed hash only); ``phone_hash`` and ``phone_encrypted`` are the contact's."""
        verification = PhoneVerification(
            web_session_id=web_session_id,
            phone_hash=phone_hash,
            phone_encrypted=phone_encrypted,
            client_hash=client_hash,
            code_hash=self.vault.code_hash(code, _salt(web_session_id)),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        self.session.add(verification)
        await self.session.flush()
        return verification

    async def sent_since(
        self,
        since: datetime,
        *,
        web_session_id: int | None = None,
        phone_hashes: Sequence[str] | None = None,
        client_hash: str | None = None,
    ) -> int:
        """How many codes were asked for since ``since``: by this session, for this number,
        from this client address, or (with no filter) by anyone (rate limits).

        ``phone_hashes`` are the number's hashes under every known key
        (:meth:`PhoneVault.lookup_hashes`): rows may predate the current key.
        """
        statement = (
            select(func.count())
            .select_from(PhoneVerification)
            .where(PhoneVerification.created_at >= since)
        )
        if web_session_id is not None:
            statement = statement.where(PhoneVerification.web_session_id == web_session_id)
        if phone_hashes is not None:
            statement = statement.where(col(PhoneVerification.phone_hash).in_(phone_hashes))
        if client_hash is not None:
            statement = statement.where(PhoneVerification.client_hash == client_hash)
        count: int = (await self.session.exec(statement)).one()
        return count

    async def latest(
        self, web_session_id: int, now: datetime, *, lock: bool = True
    ) -> PhoneVerification | None:
        """The session's newest unexpired, unused code (locked for checking unless ``lock`` is False)."""
        statement = (
            select(PhoneVerification)
            .where(
                PhoneVerification.web_session_id == web_session_id,
                PhoneVerification.expires_at > now,
                PhoneVerification.verified_at == None,  # noqa: E711
            )
            .order_by(col(PhoneVerification.id).desc())
        )
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    def check(self, verification: PhoneVerification, code: str, now: datetime) -> bool:
        """Compare in constant time, counting the attempt; a code is spent after MAX_ATTEMPTS."""
        verification.attempts += 1
        self.session.add(verification)
        if verification.attempts > MAX_ATTEMPTS:
            return False
        expected = verification.code_hash
        given = self.vault.code_hashes(code.strip(), _salt(verification.web_session_id))
        # Every key's hash is compared (no early exit), each in constant time.
        matches = [hmac.compare_digest(expected, each) for each in given]
        if any(matches):
            verification.verified_at = now
            return True
        return False
