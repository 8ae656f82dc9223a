"""Staff login: password, then a TOTP code (or setting one up), sessions that end when idle,
and lock-outs after repeated failures (docs/staff.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from consentbot.domain.staff import (
    ACCOUNT_ATTEMPTS,
    ADDRESS_ATTEMPTS,
    ATTEMPT_WINDOW,
    IDLE_TIMEOUT,
    SessionStage,
    StaffRole,
)
from consentbot.services.clock import Clock
from consentbot.services.errors import CodeRejected, SessionExpired
from consentbot.services.staff_accounts import normalise_email
from consentbot.services.staff_errors import LoginFailed, LoginLocked
from consentbot.services.staff_passwords import (
    new_totp_secret,
    password_matches,
    provisioning_uri,
    totp_step,
)
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.staff_accounts import StaffAccountRepository, studies_of, totp_aad
from consentbot.store.staff_sessions import StaffSessionRepository
from consentbot.store.tables import StaffSession, StaffUser

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """Who is behind a request, and how far their session has got."""

    user_id: int
    email: str
    role: StaffRole
    studies: tuple[str, ...]
    organisation: str | None
    session_id: int
    csrf: str
    stage: SessionStage
    totp_enrolled: bool


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A TOTP secret being set up: shown as a QR code and as text to type in."""

    secret: str
    uri: str


def _pending_aad(session_id: int) -> str:
    return f"staff-totp-pending:{session_id}"


class StaffLogin:
    """Everything between a login form and a ready staff session."""

    def __init__(self, db: Database, vault: PhoneVault, clock: Clock) -> None:
        self.db = db
        self.vault = vault
        self.clock = clock

    async def login(self, email: str, password: str, client: str) -> str:
        """Check the password and open a session; return its cookie.

        Raises :class:`LoginLocked` while the email or the client address has had too many
        failures (the password is then not even checked), and :class:`LoginFailed` for a
        wrong password, an unknown or disabled account, or one with no password yet: all
        alike, so the answer says nothing about which emails have accounts.
        """
        address = normalise_email(email)
        now = self.clock()
        account_key, client_key = self._account_key(address), self._client_key(client)
        async with self.db.read() as session:
            sessions = StaffSessionRepository(session)
            await self._refuse_if_locked(sessions, account_key, client_key, now)
            user = await StaffAccountRepository(session).by_email(address)
        matches = await password_matches(user.password_hash if user else None, password)
        if user is None or user.id is None or not matches or user.disabled_at is not None:
            async with self.db.transaction() as session:
                sessions = StaffSessionRepository(session)
                sessions.add_failure(account_key, now)
                sessions.add_failure(client_key, now)
            log.info("staff.login_failed")
            raise LoginFailed("wrong email or password")
        async with self.db.transaction() as session:
            sessions = StaffSessionRepository(session)
            await sessions.forget_failures(account_key)
            cookie, row = await sessions.open(user.id, now)
        log.info("staff.login", staff_user_id=user.id, staff_session_id=row.id)
        return cookie

    async def authenticate(self, cookie: str | None) -> StaffIdentity:
        """The identity behind a session cookie, marking the session as used now.

        Raises :class:`SessionExpired` for no cookie, an unknown or ended session, one
        idle for longer than :data:`IDLE_TIMEOUT`, or one of a disabled account.
        """
        if not cookie:
            raise SessionExpired("no staff session")
        now = self.clock()
        async with self.db.transaction() as session:
            sessions = StaffSessionRepository(session)
            row = await sessions.find(cookie)
            if row is None:
                raise SessionExpired("no staff session")
            user = await StaffAccountRepository(session).get(row.staff_user_id)
            refused: str | None = None
            if user is None or user.disabled_at is not None:
                refused = "disabled"
            elif now - row.last_seen_at > IDLE_TIMEOUT:
                refused = "idle"
            if refused is not None:
                # Ended for good (committed), not just refused this once.
                row.ended_at = now
            else:
                row.last_seen_at = now
            sessions.save(row)
        if refused is not None or user is None:
            log.info("staff.session_refused", staff_session_id=row.id, reason=refused)
            raise SessionExpired("the staff session has ended")
        return _identity(user, row)

    async def check_code(self, identity: StaffIdentity, code: str, client: str) -> None:
        """The second step of a login: a code from the account's authenticator.

        Raises :class:`LoginLocked` or :class:`CodeRejected`; a wrong code counts as a
        failed login for the account and the address.
        """
        now = self.clock()
        account_key = self._account_key(identity.email)
        client_key = self._client_key(client)
        async with self.db.transaction() as session:
            sessions = StaffSessionRepository(session)
            await self._refuse_if_locked(sessions, account_key, client_key, now)
            user = await StaffAccountRepository(session).get(identity.user_id)
            row = await session.get(StaffSession, identity.session_id)
            assert user is not None
            assert user.id is not None
            assert row is not None
            if user.totp_secret_encrypted is None:
                raise CodeRejected("no authenticator is set up for this account")
            secret = self.vault.open_secret(user.totp_secret_encrypted, totp_aad(user.id))
            step = totp_step(secret, code, now)
            accepted = step is not None and (
                user.totp_last_step is None or step > user.totp_last_step
            )
            if step is None or not accepted:
                # A wrong code, or a right one used before (replayed): both count.
                sessions.add_failure(account_key, now)
                sessions.add_failure(client_key, now)
            else:
                user.totp_last_step = step
                session.add(user)
                row.second_factor_at = now
                sessions.save(row)
                await sessions.forget_failures(account_key)
        if not accepted:
            log.info("staff.code_rejected", staff_user_id=identity.user_id)
            raise CodeRejected("that code is wrong or was used already")
        log.info("staff.second_factor", staff_user_id=identity.user_id)

    async def start_enrolment(self, identity: StaffIdentity) -> Enrolment:
        """The secret to set up an authenticator with (the same one until a code confirms it)."""
        async with self.db.transaction() as session:
            row = await session.get(StaffSession, identity.session_id)
            assert row is not None
            assert row.id is not None
            if row.pending_totp_encrypted is not None:
                secret = self.vault.open_secret(row.pending_totp_encrypted, _pending_aad(row.id))
            else:
                secret = new_totp_secret()
                row.pending_totp_encrypted = self.vault.seal_secret(secret, _pending_aad(row.id))
                session.add(row)
        return Enrolment(secret, provisioning_uri(secret, identity.email))

    async def finish_enrolment(self, identity: StaffIdentity, code: str) -> None:
        """Keep the secret being set up once a code from it is given; the session is then ready.

        Raises :class:`CodeRejected` for a wrong code (or no set-up in progress).
        """
        now = self.clock()
        async with self.db.transaction() as session:
            row = await session.get(StaffSession, identity.session_id)
            user = await StaffAccountRepository(session).get(identity.user_id)
            assert row is not None
            assert row.id is not None
            assert user is not None
            assert user.id is not None
            if row.pending_totp_encrypted is None:
                raise CodeRejected("no authenticator set-up in progress")
            secret = self.vault.open_secret(row.pending_totp_encrypted, _pending_aad(row.id))
            step = totp_step(secret, code, now)
            if step is None:
                raise CodeRejected("that code does not match")
            user.totp_secret_encrypted = self.vault.seal_secret(secret, totp_aad(user.id))
            user.totp_last_step = step
            session.add(user)
            row.pending_totp_encrypted = None
            row.second_factor_at = now
            session.add(row)
        log.info("staff.totp_enrolled", staff_user_id=identity.user_id)

    async def logout(self, identity: StaffIdentity) -> None:
        """End the session at once."""
        async with self.db.transaction() as session:
            row = await session.get(StaffSession, identity.session_id)
            if row is not None and row.ended_at is None:
                row.ended_at = self.clock()
                session.add(row)
        log.info("staff.logout", staff_user_id=identity.user_id)

    def _account_key(self, email: str) -> str:
        return self.vault.code_hash(normalise_email(email), "staff-login-account")

    def _client_key(self, client: str) -> str:
        return self.vault.code_hash(client, "staff-login-address")

    async def _refuse_if_locked(
        self, sessions: StaffSessionRepository, account_key: str, client_key: str, now: datetime
    ) -> None:
        since = now - ATTEMPT_WINDOW
        until: datetime | None = None
        for key, limit in ((account_key, ACCOUNT_ATTEMPTS), (client_key, ADDRESS_ATTEMPTS)):
            failures = await sessions.failures_since(key, since)
            if len(failures) >= limit:
                # Unlocked when enough of the failures are older than the window.
                ends = failures[-limit] + ATTEMPT_WINDOW
                until = ends if until is None else max(until, ends)
        if until is not None:
            log.info("staff.login_locked")
            raise LoginLocked(until)


def _identity(user: StaffUser, row: StaffSession) -> StaffIdentity:
    assert user.id is not None
    assert row.id is not None
    enrolled = user.totp_secret_encrypted is not None
    if row.second_factor_at is not None:
        stage = SessionStage.READY
    elif enrolled:
        stage = SessionStage.NEEDS_CODE
    elif user.role.needs_totp:
        stage = SessionStage.NEEDS_ENROLMENT
    else:
        stage = SessionStage.READY
    return StaffIdentity(
        user_id=user.id,
        email=user.email,
        role=user.role,
        studies=studies_of(user),
        organisation=user.organisation,
        session_id=row.id,
        csrf=row.csrf_token,
        stage=stage,
        totp_enrolled=enrolled,
    )
