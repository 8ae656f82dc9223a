"""The ``consentbot user`` commands: add, disable, reset and list staff accounts, read the access log."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from consentbot.domain.staff import StaffRole
from consentbot.runtime import load_content, open_runtime, require_published
from consentbot.services.clock import system_clock
from consentbot.services.errors import ServiceError
from consentbot.services.staff_access_log import StaffAccessLog
from consentbot.services.staff_accounts import StaffAccounts
from consentbot.settings import Settings
from consentbot.terminal_table import moment, print_table


@asynccontextmanager
async def _services(
    settings: Settings, studies: Sequence[str] = ()
) -> AsyncIterator[tuple[StaffAccounts, StaffAccessLog]]:
    """The staff services on an open runtime. ``studies`` must be published: a study in the
    files but never published is refused with how to publish it (as other commands do)."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        for study in studies:
            require_published(content, study)
        yield (
            StaffAccounts(runtime.db, system_clock, content.studies, settings.public_url),
            StaffAccessLog(runtime.db, system_clock),
        )


async def user_add(
    settings: Settings, email: str, role: StaffRole, studies: Sequence[str], org: str | None
) -> int:
    """Create an account; print its one-time set-password link on the last line."""
    try:
        async with _services(settings, studies) as (accounts, _log):
            added = await accounts.add(email, role, studies, org)
    except ServiceError as error:
        print(f"consentbot: {error.message}", file=sys.stderr)
        return 1
    print(
        f"Added {added.account.email} ({role.value}). Send them this link to set their "
        f"password; it works once, until {moment(added.expires)}:",
        file=sys.stderr,
    )
    print(added.link)
    return 0


async def user_disable(settings: Settings, email: str) -> int:
    """Disable an account: its sessions are refused from their next request."""
    async with _services(settings) as (accounts, _log):
        try:
            disabled = await accounts.disable(email)
        except ServiceError as error:
            print(f"consentbot: {error.message}", file=sys.stderr)
            return 1
    print(f"{disabled.email} is disabled; its sessions have ended")
    return 0


async def user_reset(settings: Settings, email: str, totp: bool) -> int:
    """Reset a password (and with ``totp`` the second factor); print the new link last."""
    try:
        async with _services(settings) as (accounts, _log):
            reset = await accounts.reset(email, totp=totp)
    except ServiceError as error:
        print(f"consentbot: {error.message}", file=sys.stderr)
        return 1
    removed = "password and authenticator no longer work" if totp else "password no longer works"
    print(
        f"The old {removed} for {reset.account.email}, and its sessions have ended. Send "
        f"them this link to set a new password; it works once, until {moment(reset.expires)}:",
        file=sys.stderr,
    )
    print(reset.link)
    return 0


async def user_list(settings: Settings) -> int:
    """Every account: email, role, studies or organisation, password and TOTP set, disabled."""
    async with _services(settings) as (accounts, _log):
        users = await accounts.list()
    if not users:
        print("no staff accounts yet: add one with `consentbot user add`")
        return 0
    rows = [("email", "role", "scope", "password", "totp", "created", "disabled")]
    rows += [
        (
            u.email,
            u.role.value,
            ",".join(u.studies) or u.organisation or "-",
            "set" if u.password_set else "not yet",
            "yes" if u.totp_enrolled else "no",
            moment(u.created),
            moment(u.disabled),
        )
        for u in users
    ]
    print_table(rows)
    return 0


async def user_access_log(settings: Settings, email: str | None, limit: int) -> int:
    """The newest staff views of participants: when, who, which participant, why."""
    async with _services(settings) as (_accounts, log):
        entries = await log.newest(limit, email)
    if not entries:
        print("no staff access recorded")
        return 0
    rows = [("when", "staff", "participant", "reason")]
    rows += [
        (moment(e.occurred), e.staff_email, str(e.participant_id), e.reason.value) for e in entries
    ]
    print_table(rows)
    return 0
