"""``consentbot user add / disable / list / access-log``, run as real processes."""

from __future__ import annotations

import subprocess
import sys

from consentbot import keys
from consentbot.domain.staff import StaffRole
from consentbot.settings import Settings
from tests.staff.conftest import PASSWORD, StaffBrowser, StaffFactory
from tests.support.cli import env_for
from tests.support.databases import SQLITE_ONLY
from tests.support.journey import STUDY

NEW_PASSWORD = "a new long passphrase 7"


def user(settings: Settings, public_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = env_for(settings) | {"CONSENTBOT_PUBLIC_URL": public_url}
    return subprocess.run(
        [sys.executable, "-m", "consentbot", "user", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _origin(staff: StaffBrowser) -> str:
    return str(staff.client.make_url("")).rstrip("/")


async def test_user_add_prints_a_link_that_sets_the_password(
    staff: StaffBrowser, settings: Settings
) -> None:
    origin = _origin(staff)
    added = user(
        settings, origin, "add", "--email", "Team@Example.org", "--role", "study_team", "--study", STUDY
    )
    assert added.returncode == 0, added.stderr
    link = added.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{origin}/staff/password/")
    assert "works once" in added.stderr
    path = link.removeprefix(origin)
    await staff.set_password(path)
    assert staff.url == "/staff/login"
    await staff.log_in("team@example.org", PASSWORD)
    assert staff.url == "/staff/totp"  # a study team sets up TOTP first

    listed = user(settings, origin, "list")
    assert listed.returncode == 0, listed.stderr
    row = listed.stdout.splitlines()[1].split()
    assert row[:5] == ["team@example.org", "study_team", STUDY, "set", "no"]

    disabled = user(settings, origin, "disable", "--email", "team@example.org")
    assert disabled.returncode == 0, disabled.stderr
    await staff.open("/staff/totp")
    assert staff.url == "/staff/login"  # refused at once
    again = user(settings, origin, "disable", "--email", "team@example.org")
    assert again.returncode == 1
    assert "already disabled" in again.stderr


@SQLITE_ONLY
async def test_user_add_explains_what_is_wrong(staff: StaffBrowser, settings: Settings) -> None:
    origin = _origin(staff)
    cases = [
        (["--role", "study_team"], "needs at least one --study"),
        (["--role", "study_team", "--study", "no-such-study"], "there is no study 'no-such-study'"),
        (["--role", "community_worker"], "needs --org"),
        (["--role", "admin", "--org", "Somewhere"], "only a community_worker account takes --org"),
    ]
    for extra, message in cases:
        result = user(settings, origin, "add", "--email", "a@example.org", *extra)
        assert result.returncode == 1, (extra, result.stderr)
        assert message in result.stderr
        assert result.stdout == ""
    ok = user(settings, origin, "add", "--email", "a@example.org", "--role", "admin")
    assert ok.returncode == 0, ok.stderr
    taken = user(settings, origin, "add", "--email", "A@example.org", "--role", "admin")
    assert taken.returncode == 1
    assert "already an account" in taken.stderr
    bad_role = user(settings, origin, "add", "--email", "b@example.org", "--role", "boss")
    assert bad_role.returncode == 2
    assert "invalid" in bad_role.stderr
    unknown = user(settings, origin, "disable", "--email", "nobody@example.org")
    assert unknown.returncode == 1
    assert "no account" in unknown.stderr
    log = user(settings, origin, "access-log")
    assert log.returncode == 0, log.stderr
    assert "no staff access recorded" in log.stdout


async def test_user_reset_ends_the_old_password_and_sessions_and_gives_a_new_link(
    make_staff: StaffFactory, settings: Settings
) -> None:
    staff = await make_staff()
    await staff.account("team@example.org", StaffRole.STUDY_TEAM)
    origin = _origin(staff)
    await staff.open("/staff/")
    assert staff.url == "/staff/"

    reset = user(settings, origin, "reset", "--email", "Team@Example.org")
    assert reset.returncode == 0, reset.stderr
    assert "old password no longer works" in reset.stderr
    link = reset.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{origin}/staff/password/")
    # The session ended at once, and the old password no longer logs in.
    await staff.open("/staff/")
    assert staff.url.startswith("/staff/login")
    await staff.log_in("team@example.org", PASSWORD)
    assert staff.url.startswith("/staff/login")
    # The new link sets a new password; the authenticator is kept without --totp.
    await staff.set_password(link.removeprefix(origin), NEW_PASSWORD)
    await staff.log_in("team@example.org", NEW_PASSWORD)
    assert staff.url == "/staff/login/code"


async def test_only_the_newest_reset_link_works(make_staff: StaffFactory) -> None:
    staff = await make_staff()
    await staff.account("worker@example.org", StaffRole.COMMUNITY_WORKER)
    accounts = staff.app[keys.STAFF_ACCOUNTS]
    origin = _origin(staff)
    first = (await accounts.reset("worker@example.org")).link.removeprefix(origin)
    second = (await accounts.reset("worker@example.org")).link.removeprefix(origin)
    await staff.open(first)
    assert staff.status == 410  # Gone: the link no longer works
    assert 'name="password"' not in staff.page
    await staff.set_password(second, NEW_PASSWORD)
    await staff.log_in("worker@example.org", NEW_PASSWORD)
    assert staff.url == "/staff/"


async def test_user_reset_totp_makes_them_set_up_a_new_authenticator(
    make_staff: StaffFactory, settings: Settings
) -> None:
    staff = await make_staff()
    await staff.account("admin@example.org", StaffRole.ADMIN)
    origin = _origin(staff)
    reset = user(settings, origin, "reset", "--email", "admin@example.org", "--totp")
    assert reset.returncode == 0, reset.stderr
    assert "password and authenticator no longer work" in reset.stderr
    await staff.set_password(reset.stdout.strip().splitlines()[-1].removeprefix(origin), NEW_PASSWORD)
    await staff.log_in("admin@example.org", NEW_PASSWORD)
    assert staff.url == "/staff/totp"  # the old authenticator is gone: a new one is set up


@SQLITE_ONLY
async def test_user_reset_explains_what_is_wrong(staff: StaffBrowser, settings: Settings) -> None:
    origin = _origin(staff)
    missing = user(settings, origin, "reset", "--email", "nobody@example.org")
    assert missing.returncode == 1
    assert "there is no account for nobody@example.org" in missing.stderr
    assert missing.stdout == ""
    assert user(settings, origin, "add", "--email", "a@example.org", "--role", "admin").returncode == 0
    assert user(settings, origin, "disable", "--email", "a@example.org").returncode == 0
    disabled = user(settings, origin, "reset", "--email", "a@example.org")
    assert disabled.returncode == 1
    assert "is disabled" in disabled.stderr
