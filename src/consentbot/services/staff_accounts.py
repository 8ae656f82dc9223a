"""Staff accounts: add, disable, list, and set a password from a one-time link."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from consentbot.content.live import LiveCatalogue
from consentbot.domain.staff import PASSWORD_LINK_LIFETIME, StaffRole, password_problem
from consentbot.services.clock import Clock
from consentbot.services.errors import Conflict, InvalidInput, UnknownStudy
from consentbot.services.staff_errors import LinkUnusable, PasswordRefused, UnknownStaff
from consentbot.services.staff_passwords import hash_password
from consentbot.store.database import Database
from consentbot.store.staff_accounts import StaffAccountRepository, studies_of
from consentbot.store.staff_sessions import StaffSessionRepository
from consentbot.store.tables import StaffUser

log = structlog.get_logger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    """Emails are compared lower-cased and without surrounding spaces."""
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class StaffInfo:
    """What may be shown about an account: never its hashes or secrets."""

    id: int
    email: str
    role: StaffRole
    studies: tuple[str, ...]
    organisation: str | None
    password_set: bool
    totp_enrolled: bool
    created: datetime
    disabled: datetime | None

    @classmethod
    def of(cls, user: StaffUser) -> StaffInfo:
        """The displayable part of a stored account."""
        assert user.id is not None
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            studies=studies_of(user),
            organisation=user.organisation,
            password_set=user.password_hash is not None,
            totp_enrolled=user.totp_secret_encrypted is not None,
            created=user.created_at,
            disabled=user.disabled_at,
        )


@dataclass(frozen=True, slots=True)
class AddedStaff:
    """A new account and the one-time link that sets its password (shown once)."""

    account: StaffInfo
    link: str
    expires: datetime


class StaffAccounts:
    """Account administration (the ``consentbot user`` commands) and password links."""

    def __init__(
        self, db: Database, clock: Clock, studies: LiveCatalogue, public_url: str | None
    ) -> None:
        self.db = db
        self.clock = clock
        self.studies = studies
        self.public_url = public_url

    async def add(
        self,
        email: str,
        role: StaffRole,
        studies: Sequence[str] = (),
        organisation: str | None = None,
    ) -> AddedStaff:
        """Create an account and a link to set its password.

        Raises :class:`InvalidInput` for a malformed email or a missing or misplaced
        ``--study``/``--org``, :class:`UnknownStudy` and :class:`Conflict` (email taken).
        """
        address = normalise_email(email)
        if not _EMAIL.match(address) or len(address) > 254:
            raise InvalidInput(f"{email!r} is not an email address", field="email")
        if not self.public_url:
            raise InvalidInput(
                "set CONSENTBOT_PUBLIC_URL: the set-password link is built on it",
                field="public_url",
            )
        wanted = tuple(dict.fromkeys(studies))
        org = (organisation or "").strip() or None
        _check_scope(role, wanted, org)
        for study_id in wanted:
            if self.studies.get(study_id) is None:
                raise UnknownStudy(f"there is no study {study_id!r}", field="study")
        now = self.clock()
        async with self.db.transaction() as session:
            accounts = StaffAccountRepository(session)
            if await accounts.by_email(address) is not None:
                raise Conflict(f"there is already an account for {address}", field="email")
            user = await accounts.add(address, role, wanted, org, now)
            expires = now + PASSWORD_LINK_LIFETIME
            token = await accounts.issue_password_token(user, now, expires)
            info = StaffInfo.of(user)
        log.info("staff.user_added", staff_user_id=info.id, role=role.value)
        return AddedStaff(info, f"{self.public_url}/staff/password/{token}", expires)

    async def disable(self, email: str) -> StaffInfo:
        """Disable an account and end its sessions: its next request is refused.

        Raises :class:`UnknownStaff`, or :class:`Conflict` when it is disabled already.
        """
        address = normalise_email(email)
        now = self.clock()
        async with self.db.transaction() as session:
            user = await StaffAccountRepository(session).by_email(address)
            if user is None:
                raise UnknownStaff(f"there is no account for {address}", field="email")
            if user.disabled_at is not None:
                raise Conflict(f"the account for {address} is already disabled", field="email")
            user.disabled_at = now
            session.add(user)
            assert user.id is not None
            await StaffSessionRepository(session).end_all(user.id, now)
            info = StaffInfo.of(user)
        log.info("staff.user_disabled", staff_user_id=info.id)
        return info

    async def reset(self, email: str, *, totp: bool = False) -> AddedStaff:
        """A new one-time link to set the password, for someone who forgot theirs or
        whose password (or, with ``totp``, authenticator) may be known to someone else.

        The old password stops working at once, earlier links no longer work and every
        session ends. With ``totp`` the second factor is removed too: an admin or study
        team member sets up a new one at their next login. Raises :class:`UnknownStaff`,
        or :class:`Conflict` for a disabled account (disabled means no more logins).
        """
        address = normalise_email(email)
        if not self.public_url:
            raise InvalidInput(
                "set CONSENTBOT_PUBLIC_URL: the set-password link is built on it",
                field="public_url",
            )
        now = self.clock()
        async with self.db.transaction() as session:
            accounts = StaffAccountRepository(session)
            user = await accounts.by_email(address)
            if user is None or user.id is None:
                raise UnknownStaff(f"there is no account for {address}", field="email")
            if user.disabled_at is not None:
                raise Conflict(f"the account for {address} is disabled", field="email")
            user.password_hash = None
            if totp:
                user.totp_secret_encrypted = None
                user.totp_last_step = None
            accounts.save(user)
            await accounts.use_password_tokens(user.id, now)
            expires = now + PASSWORD_LINK_LIFETIME
            token = await accounts.issue_password_token(user, now, expires)
            await StaffSessionRepository(session).end_all(user.id, now)
            info = StaffInfo.of(user)
        log.info("staff.user_reset", staff_user_id=info.id, totp=totp)
        return AddedStaff(info, f"{self.public_url}/staff/password/{token}", expires)

    async def list(self) -> list[StaffInfo]:
        """Every account, disabled ones included, oldest first."""
        async with self.db.read() as session:
            return [StaffInfo.of(user) for user in await StaffAccountRepository(session).all()]

    async def link_account(self, token: str) -> StaffInfo:
        """The account a set-password link is for; :class:`LinkUnusable` if it no longer works."""
        async with self.db.read() as session:
            accounts = StaffAccountRepository(session)
            found = await accounts.password_token(token, self.clock())
            user = await accounts.get(found.staff_user_id) if found else None
            if user is None or user.disabled_at is not None:
                raise LinkUnusable("this link has expired or was used already")
            return StaffInfo.of(user)

    async def set_password(self, token: str, password: str, again: str) -> StaffInfo:
        """Set the password from a one-time link (which then stops working).

        Raises :class:`LinkUnusable` or :class:`PasswordRefused`. Every session the
        account had is ended: a new password shuts out whoever knew the old one.
        """
        account = await self.link_account(token)
        problem = password_problem(password, again, account.email)
        if problem is not None:
            raise PasswordRefused(problem)
        hashed = await hash_password(password)
        now = self.clock()
        async with self.db.transaction() as session:
            accounts = StaffAccountRepository(session)
            found = await accounts.password_token(token, now, lock=True)
            user = await accounts.get(found.staff_user_id) if found else None
            if user is None or user.id is None or user.disabled_at is not None:
                # Used meanwhile by another request, or disabled: still one use per link.
                raise LinkUnusable("this link has expired or was used already")
            user.password_hash = hashed
            accounts.save(user)
            await accounts.use_password_tokens(user.id, now)
            await StaffSessionRepository(session).end_all(user.id, now)
            info = StaffInfo.of(user)
        log.info("staff.password_set", staff_user_id=info.id)
        return info


def _check_scope(role: StaffRole, studies: tuple[str, ...], organisation: str | None) -> None:
    """A study team needs its studies, a community worker its organisation; no one else has either."""
    if role is StaffRole.STUDY_TEAM and not studies:
        raise InvalidInput("a study_team account needs at least one --study", field="study")
    if role is not StaffRole.STUDY_TEAM and studies:
        raise InvalidInput("only a study_team account takes --study", field="study")
    if role is StaffRole.COMMUNITY_WORKER and organisation is None:
        raise InvalidInput("a community_worker account needs --org", field="org")
    if role is not StaffRole.COMMUNITY_WORKER and organisation is not None:
        raise InvalidInput("only a community_worker account takes --org", field="org")
