"""The second factor: required for admins and study teams, optional for community workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.domain.staff import StaffRole
from consentbot.store.tables import StaffUser
from tests.staff.conftest import SECRET, StaffBrowser

ADMIN = "admin@example.org"


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.STUDY_TEAM])
async def test_admins_and_study_teams_must_set_up_totp_before_anything_else(
    staff: StaffBrowser, role: StaffRole
) -> None:
    await staff.set_password(await staff.add(ADMIN, role))
    await staff.log_in(ADMIN)
    assert staff.url == "/staff/totp"
    assert "QR code for your authenticator app" in staff.page
    assert "<svg" in staff.page
    for path in ("/staff/", "/staff/login/code"):
        await staff.open(path)
        assert staff.url == "/staff/totp"
    response = await staff.client.get("/staff/api/me")
    assert response.status == 401
    assert await response.json() == {"error": "finish logging in first"}
    # A wrong code keeps them there; the right one lets them in.
    page = staff.page
    secret = SECRET.search(page)
    assert secret is not None
    assert await staff.post("/staff/totp", code="000000") == 400
    assert staff.error is not None
    assert "not right" in staff.error
    assert SECRET.search(staff.page) == secret or secret.group(1) in staff.page  # same key
    await staff.enrol(ADMIN)
    assert staff.url == "/staff/"
    async with staff.app[keys.DATABASE].read() as session:
        user = (await session.exec(select(StaffUser))).one()
    assert user.totp_secret_encrypted is not None
    assert staff.secrets[ADMIN] not in user.totp_secret_encrypted  # sealed, not stored plain


async def test_an_enrolled_account_logs_in_with_a_code_used_once(staff: StaffBrowser) -> None:
    await staff.account(ADMIN, StaffRole.ADMIN)
    await staff.post("/staff/logout")
    staff.clock.advance(timedelta(minutes=1))
    await staff.log_in(ADMIN)
    assert staff.url == "/staff/login/code"
    await staff.open("/staff/")
    assert staff.url == "/staff/login/code"  # nothing else until the code
    assert await staff.post("/staff/login/code", code="123456") == 401
    assert staff.error is not None
    assert "not right" in staff.error
    code = staff.code(ADMIN)
    await staff.post("/staff/login/code", code=code)
    assert staff.url == "/staff/"
    assert "Administrator" in staff.page
    # The same code cannot be used again (someone watching could otherwise reuse it).
    await staff.post("/staff/logout")
    await staff.log_in(ADMIN)
    assert await staff.post("/staff/login/code", code=code) == 401
    staff.clock.advance(timedelta(seconds=30))
    await staff.post("/staff/login/code", code=staff.code(ADMIN))
    assert staff.url == "/staff/"


async def test_wrong_codes_lock_the_account_too(staff: StaffBrowser) -> None:
    await staff.account(ADMIN, StaffRole.ADMIN)
    await staff.post("/staff/logout")
    await staff.log_in(ADMIN)
    for _ in range(5):
        assert await staff.post("/staff/login/code", code="000000") == 401
    assert await staff.post("/staff/login/code", code=staff.code(ADMIN)) == 429
    assert staff.error is not None
    assert "Too many attempts" in staff.error


async def test_community_workers_may_set_up_totp_but_need_not(staff: StaffBrowser) -> None:
    worker = "worker@example.org"
    await staff.account(worker)
    assert staff.url == "/staff/"
    assert "Set up an authenticator app" in staff.page
    await staff.enrol(worker)
    assert staff.url == "/staff/"
    assert "Set up an authenticator app" not in staff.page
    await staff.post("/staff/logout")
    staff.clock.advance(timedelta(minutes=1))
    await staff.log_in(worker)
    assert staff.url == "/staff/login/code"
    await staff.post("/staff/login/code", code=staff.code(worker))
    assert staff.url == "/staff/"


async def test_the_bare_staff_address_reaches_the_home_page(staff: StaffBrowser) -> None:
    await staff.account("worker@example.org")
    await staff.open("/staff")
    assert staff.status == 200
    assert "Staff home" in staff.page
