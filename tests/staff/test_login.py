"""Logging in with a password: success, wrong passwords, lock-outs, idle expiry, logging out."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from consentbot import keys
from consentbot.domain.staff import StaffRole
from consentbot.store.tables import StaffUser
from tests.staff.conftest import PASSWORD, StaffBrowser

WORKER = "worker@example.org"


async def test_a_community_worker_logs_in_and_sees_who_they_are(staff: StaffBrowser) -> None:
    await staff.set_password(await staff.add(WORKER, org="Drop-in Centre"))
    await staff.log_in(WORKER)
    assert staff.url == "/staff/"
    assert staff.status == 200
    assert WORKER in staff.page
    assert "Community worker" in staff.page
    assert "Drop-in Centre" in staff.page
    async with staff.app[keys.DATABASE].read() as session:
        user = (await session.exec(select(StaffUser))).one()
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(staff: StaffBrowser) -> None:
    await staff.set_password(await staff.add(WORKER))
    await staff.log_in(WORKER, "not the password at all")
    wrong = (staff.status, staff.url, staff.error)
    await staff.log_in("nobody@example.org", "not the password at all")
    assert (staff.status, staff.url, staff.error) == wrong
    assert wrong[0] == 401
    assert wrong[1] == "/staff/login"
    assert wrong[2] is not None
    assert "do not match" in wrong[2]
    assert "consentbot_staff" not in {c.key for c in staff.client.session.cookie_jar}


async def test_five_failures_lock_the_account_with_a_message_saying_when(staff: StaffBrowser) -> None:
    await staff.set_password(await staff.add(WORKER))
    for _ in range(5):
        assert await staff.log_in(WORKER, "wrong password here") == 401
    # Locked: even the right password is not checked, and the message says until when.
    assert await staff.log_in(WORKER) == 429
    assert staff.error is not None
    assert "Too many attempts" in staff.error
    assert "10:15" in staff.error  # 15 minutes after the first failure (START is 10:00 UTC)
    # An unknown email is locked the same way: a lock-out does not reveal an account.
    for _ in range(5):
        await staff.log_in("nobody@example.org", "wrong password here")
    assert await staff.log_in("nobody@example.org", "wrong password here") == 429
    staff.clock.advance(timedelta(minutes=16))
    assert await staff.log_in(WORKER) == 200
    assert staff.url == "/staff/"


async def test_many_failures_from_one_address_lock_it_for_every_account(staff: StaffBrowser) -> None:
    await staff.set_password(await staff.add(WORKER))
    for n in range(20):
        await staff.log_in(f"guess{n}@example.org", "wrong password here")
    assert await staff.log_in(WORKER) == 429
    assert staff.error is not None
    assert "Too many attempts" in staff.error


async def test_a_session_ends_after_30_minutes_idle(staff: StaffBrowser) -> None:
    await staff.account(WORKER)
    staff.clock.advance(timedelta(minutes=29))
    await staff.open("/staff/")
    assert staff.url == "/staff/"  # each request restarts the 30 minutes
    staff.clock.advance(timedelta(minutes=31))
    await staff.open("/staff/")
    assert staff.url == "/staff/login"
    assert staff.notice == "Your session has ended. Please log in again."
    # Ended for good: going back in time (or a copied cookie) does not revive it.
    staff.clock.advance(timedelta(minutes=-31))
    await staff.open("/staff/")
    assert staff.url == "/staff/login"


async def test_logging_out_ends_the_session(staff: StaffBrowser) -> None:
    await staff.account(WORKER)
    cookie = next(c.value for c in staff.client.session.cookie_jar if c.key == "consentbot_staff")
    await staff.post("/staff/logout")
    assert staff.url == "/staff/login"
    assert staff.notice == "You have logged out."
    response = await staff.client.get("/staff/api/me", cookies={"consentbot_staff": cookie})
    assert response.status == 401


async def test_an_admin_sees_their_role(staff: StaffBrowser) -> None:
    await staff.account("admin@example.org", StaffRole.ADMIN)
    assert staff.url == "/staff/"
    assert "Administrator" in staff.page


async def test_the_staff_pages_speak_the_browsers_language(staff: StaffBrowser) -> None:
    await staff.set_password(await staff.add(WORKER))
    headers = {"Accept-Language": "cy"}
    page = await (await staff.client.get("/staff/login", headers=headers)).text()
    assert "Mewngofnodi staff" in page
    assert 'lang="cy"' in page
    csrf = next(c.value for c in staff.client.session.cookie_jar if c.key == "consentbot_staff_csrf")
    for _ in range(6):
        response = await staff.client.post(
            "/staff/login",
            data={"csrf": csrf, "email": WORKER, "password": "wrong password here"},
            headers={"Accept-Language": "ur"},
        )
    assert response.status == 429
    text = await response.text()
    assert 'dir="rtl"' in text
    assert "برطانیہ کا وقت" in text
