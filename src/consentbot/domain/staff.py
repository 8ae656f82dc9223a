"""Staff accounts: roles, the reasons a participant's record may be opened, and the rules
for passwords, sessions and login attempts (docs/staff.md)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class StaffRole(StrEnum):
    """What a staff account may do."""

    ADMIN = "admin"
    STUDY_TEAM = "study_team"
    """The team of the studies the account names."""
    COMMUNITY_WORKER = "community_worker"
    """Helps people in person for one organisation."""

    @property
    def needs_totp(self) -> bool:
        """Admins and study teams see many people's data: a second factor is required.
        Community workers often share tablets at drop-in centres, so it is their choice."""
        return self is not StaffRole.COMMUNITY_WORKER


class AccessReason(StrEnum):
    """Why a member of staff opened a participant's record (chosen from this list only)."""

    ASSISTED_SESSION = "assisted-session"
    CALL_BACK = "call-back"
    PARTICIPANT_QUESTION = "participant-question"
    CORRECTION = "correction"
    AUDIT = "audit"
    PRINT = "print"
    """To print the explanation with the person's current choices, to give or post to them."""


class SessionStage(StrEnum):
    """How far a staff session has got: only ``ready`` reaches anything but the login steps."""

    NEEDS_CODE = "needs-code"
    """Password given; the account has TOTP set up, so a code is still due."""
    NEEDS_ENROLMENT = "needs-enrolment"
    """Password given; the role needs TOTP and the account has none yet."""
    READY = "ready"


IDLE_TIMEOUT = timedelta(minutes=30)
"""A staff session ends after this long without a request."""
PASSWORD_LINK_LIFETIME = timedelta(hours=72)
"""How long a one-time set-password link works."""
MIN_PASSWORD_LENGTH = 12
ATTEMPT_WINDOW = timedelta(minutes=15)
"""Failed logins count for this long."""
ACCOUNT_ATTEMPTS = 5
"""Failed passwords or codes for one email address within the window before it is locked."""
ADDRESS_ATTEMPTS = 20
"""Failed logins from one client address within the window before it is locked."""

COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "111111111111",
        "000000000000",
        "aaaaaaaaaaaa",
        "abcdefghijkl",
        "abcdefgh1234",
        "abc123abc123",
        "password1234",
        "password12345",
        "password123!",
        "passwordpassword",
        "qwertyuiopas",
        "qwerty123456",
        "qwertyqwerty",
        "1qaz2wsx3edc",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "changeme1234",
        "administrator",
        "admin1234567",
        "football1234",
        "monkey123456",
        "sunshine1234",
        "trustno1trustno1",
        "consentbot123",
        "consentbot1234",
    }
)
"""A small list of passwords people pick first: refused whatever their length."""


class PasswordProblem(StrEnum):
    """Why a new password is refused."""

    TOO_SHORT = "too-short"
    TOO_COMMON = "too-common"
    MISMATCH = "mismatch"


def password_problem(password: str, again: str, email: str) -> PasswordProblem | None:
    """What is wrong with ``password`` (typed twice) for the account ``email``; None if fine."""
    if password != again:
        return PasswordProblem.MISMATCH
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.TOO_SHORT
    folded = password.casefold()
    if folded in COMMON_PASSWORDS or folded == email.casefold() or len(set(folded)) < 4:
        return PasswordProblem.TOO_COMMON
    return None
