"""Nothing under /staff without a session; CSRF on every form; cookie flags; roles; disabling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from consentbot import keys
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.domain.staff import AccessReason, StaffRole
from consentbot.store.tables import Participant
from tests.staff.conftest import StaffBrowser, StaffFactory
from tests.support.journey import STUDY

WORKER = "worker@example.org"


@pytest.mark.parametrize(
    "path", ["/staff/", "/staff", "/staff/totp", "/staff/login/code", "/staff/no-such-page"]
)
async def test_pages_send_anyone_without_a_session_to_login(staff: StaffBrowser, path: str) -> None:
    response = await staff.client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/staff/login")


@pytest.mark.parametrize("path", ["/staff/api/me", "/staff/api/access-log", "/staff/api/other"])
async def test_the_api_answers_401_in_json_without_a_session(staff: StaffBrowser, path: str) -> None:
    response = await staff.client.get(path, cookies={"consentbot_staff": "made-up"})
    assert response.status == 401
    assert await response.json() == {"error": "a staff session is needed"}


async def test_a_made_up_cookie_reaches_nothing(staff: StaffBrowser) -> None:
    response = await staff.client.get(
        "/staff/", cookies={"consentbot_staff": "made-up"}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/staff/login?notice=ended"


async def test_session_cookie_is_httponly_secure_strict_and_only_for_staff(
    staff: StaffBrowser,
) -> None:
    await staff.set_password(await staff.add(WORKER))
    await staff.open("/staff/login")
    response = await staff.client.post(
        "/staff/login",
        data={"csrf": staff.csrf, "email": WORKER, "password": "correct horse battery staple"},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = response.cookies["consentbot_staff"]
    assert cookie["httponly"]
    assert cookie["secure"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/staff"
    assert not cookie["max-age"]  # for the browser session only
    login_page = await staff.client.get("/staff/login", cookies={"consentbot_staff_csrf": ""})
    csrf = login_page.cookies["consentbot_staff_csrf"]
    assert csrf["secure"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Strict"


async def test_a_login_form_without_the_pages_token_is_refused(staff: StaffBrowser) -> None:
    await staff.set_password(await staff.add(WORKER))
    await staff.open("/staff/login")
    assert await staff.post("/staff/login", csrf="forged", email=WORKER, password="x") == 403
    assert "did not come from this site" in staff.page


async def test_a_session_form_with_a_wrong_token_is_refused(staff: StaffBrowser) -> None:
    await staff.account(WORKER)
    assert await staff.post("/staff/logout", csrf="forged") == 403
    assert "did not come from this site" in staff.page
    # Still logged in: the forged logout did nothing.
    await staff.open("/staff/")
    assert staff.url == "/staff/"
    # Another session's token is no good either.
    other = await staff.client.post("/staff/logout", data={})
    assert other.status == 403


async def test_a_disabled_account_is_refused_at_once(
    staff: StaffBrowser, make_staff: StaffFactory
) -> None:
    await staff.account(WORKER)
    await staff.app[keys.STAFF_ACCOUNTS].disable(WORKER)
    await staff.open("/staff/")
    assert staff.url == "/staff/login"
    # And it cannot log in again, with the answer a wrong password gets.
    assert await staff.log_in(WORKER) == 401


async def test_require_role_keeps_the_access_log_to_admins(staff: StaffBrowser) -> None:
    await staff.account(WORKER)
    response = await staff.client.get("/staff/api/access-log")
    assert response.status == 403
    assert await response.json() == {"error": "your role may not use this"}
    me = await (await staff.client.get("/staff/api/me")).json()
    assert me == {
        "email": WORKER,
        "role": "community_worker",
        "studies": [],
        "organisation": "Drop-in Centre",
    }


async def test_admins_read_the_access_log(staff: StaffBrowser, make_staff: StaffFactory) -> None:
    await staff.account("admin@example.org", StaffRole.ADMIN)
    participant = await _a_participant(staff)
    worker = await staff.app[keys.STAFF_ACCOUNTS].add(
        WORKER, StaffRole.COMMUNITY_WORKER, (), "Drop-in Centre"
    )
    log = staff.app[keys.STAFF_ACCESS]
    await log.record(worker.account.id, participant, AccessReason.ASSISTED_SESSION)
    staff.clock.advance(timedelta(minutes=1))
    await log.record(worker.account.id, participant, AccessReason.CALL_BACK)
    response = await staff.client.get("/staff/api/access-log")
    assert response.status == 200
    entries = await response.json()
    assert [(e["staff"], e["participant_id"], e["reason"]) for e in entries] == [
        (WORKER, participant, "call-back"),
        (WORKER, participant, "assisted-session"),
    ]
    assert entries[1]["at"] == "2026-12-01T10:00:00+00:00"
    only = await (await staff.client.get("/staff/api/access-log?staff=admin@example.org")).json()
    assert only == []


async def _a_participant(staff: StaffBrowser) -> int:
    await staff.app[keys.INVITATIONS].invite(
        STUDY,
        phone="07400900101",
        reference="REF-1",
        language=None,
        provenance=Provenance(Channel.CLI, "staff", Auth.SYSTEM),
    )
    async with staff.app[keys.DATABASE].read() as session:
        participant = (await session.exec(select(Participant))).one()
    assert participant.id is not None
    return participant.id
