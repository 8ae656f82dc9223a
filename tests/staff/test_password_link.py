"""The one-time link to set a password: works once, expires, and the password has rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consentbot import keys
from consentbot.store.staff_accounts import StaffAccountRepository
from tests.staff.conftest import PASSWORD, StaffBrowser

WORKER = "worker@example.org"


async def test_the_link_works_once(staff: StaffBrowser) -> None:
    link = await staff.add(WORKER)
    await staff.open(link)
    assert staff.status == 200
    assert WORKER in staff.page
    await staff.post(link, password=PASSWORD, again=PASSWORD)
    assert staff.url == "/staff/login"
    assert staff.notice == "Your password is set. You can log in now."
    await staff.open(link)
    assert staff.status == 410
    assert "This link no longer works" in staff.page
    # Posting to it again (a saved form) changes nothing either.
    await staff.open("/staff/login")
    await staff.post(link, password="another good password", again="another good password")
    assert staff.status == 410
    assert await staff.log_in(WORKER) == 200
    assert staff.url == "/staff/"


async def test_the_link_expires_after_three_days(staff: StaffBrowser) -> None:
    link = await staff.add(WORKER)
    staff.clock.advance(timedelta(hours=72, seconds=1))
    await staff.open(link)
    assert staff.status == 410


async def test_a_disabled_accounts_link_no_longer_works(staff: StaffBrowser) -> None:
    link = await staff.add(WORKER)
    await staff.app[keys.STAFF_ACCOUNTS].disable(WORKER)
    await staff.open(link)
    assert staff.status == 410


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("short one", "short one", "at least 12 characters"),
        ("password1234", "password1234", "too easy to guess"),
        ("Password1234", "Password1234", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "too easy to guess"),
        (WORKER, WORKER, "too easy to guess"),
        (PASSWORD, PASSWORD + "!", "not the same"),
    ],
)
async def test_weak_or_mistyped_passwords_are_refused(
    staff: StaffBrowser, password: str, again: str, message: str
) -> None:
    link = await staff.add(WORKER)
    await staff.open(link)
    assert await staff.post(link, password=password, again=again) == 400
    assert staff.error is not None
    assert message in staff.error
    # The link still works for a good one.
    assert await staff.set_password(link) == 200
    assert staff.url == "/staff/login"


async def test_a_new_password_ends_the_accounts_sessions(staff: StaffBrowser) -> None:
    await staff.account(WORKER)
    accounts = staff.app[keys.STAFF_ACCOUNTS]
    async with staff.app[keys.DATABASE].transaction() as session:
        repository = StaffAccountRepository(session)
        user = await repository.by_email(WORKER)
        assert user is not None
        token = await repository.issue_password_token(
            user, staff.clock(), staff.clock() + timedelta(hours=1)
        )
    await accounts.set_password(token, "a different good password", "a different good password")
    await staff.open("/staff/")
    assert staff.url == "/staff/login"
