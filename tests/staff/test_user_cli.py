"""``consentbot user add / disable / list / access-log``, run as real processes."""

from __future__ import annotations

import subprocess
import sys

from consentbot.settings import Settings
from tests.staff.conftest import PASSWORD, StaffBrowser
from tests.support.cli import env_for
from tests.support.journey import STUDY


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
