"""What can go wrong with staff accounts and logins: handlers and the CLI turn these into words."""

from __future__ import annotations

from datetime import datetime

from consentbot.domain.staff import PasswordProblem
from consentbot.services.errors import ServiceError


class UnknownStaff(ServiceError):
    """No staff account with that email."""


class LinkUnusable(ServiceError):
    """A set-password link is unknown, used already or expired (or its account disabled)."""


class PasswordRefused(ServiceError):
    """A new password breaks the rules."""

    def __init__(self, problem: PasswordProblem) -> None:
        super().__init__(f"password refused: {problem.value}", field="password")
        self.problem = problem


class LoginFailed(ServiceError):
    """Wrong email, password or code. Deliberately never says which."""


class LoginLocked(ServiceError):
    """Too many failed attempts for the account or the address; ``until`` says when it ends."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many failed attempts")
        self.until = until
