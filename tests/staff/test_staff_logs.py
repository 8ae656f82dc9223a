"""Staff logins are logged by account id and outcome: never a password, link token or code."""

from __future__ import annotations

from datetime import timedelta

from structlog.testing import capture_logs

from consentbot import keys
from consentbot.domain.staff import StaffRole
from tests.staff.conftest import PASSWORD, StaffBrowser

ADMIN = "admin@example.org"


async def test_no_password_token_secret_or_code_reaches_the_logs(staff: StaffBrowser) -> None:
    with capture_logs() as logs:
        link = await staff.add(ADMIN, StaffRole.ADMIN)
        await staff.set_password(link)
        await staff.log_in(ADMIN, "a wrong password, also secret")
        await staff.log_in(ADMIN)
        await staff.enrol(ADMIN)
        first_code = staff.code(ADMIN)
        await staff.post("/staff/logout")
        await staff.log_in(ADMIN)
        await staff.post("/staff/login/code", code="987654")
        staff.clock.advance(timedelta(seconds=30))
        second_code = staff.code(ADMIN)
        await staff.post("/staff/login/code", code=second_code)
        assert staff.url == "/staff/"
        await staff.app[keys.STAFF_ACCOUNTS].disable(ADMIN)
    cookie = next(c.value for c in staff.client.session.cookie_jar if c.key == "consentbot_staff")
    # Request ids are random hex: six digits could turn up in one by chance.
    written = repr([{k: v for k, v in entry.items() if k != "request_id"} for entry in logs])
    events = {entry["event"] for entry in logs}
    assert {"staff.login", "staff.login_failed", "staff.totp_enrolled", "staff.code_rejected"} <= events
    token = link.rsplit("/", 1)[1]
    for secret in (
        PASSWORD,
        "a wrong password, also secret",
        token,
        staff.secrets[ADMIN],
        first_code,
        second_code,
        "987654",
        cookie,
    ):
        assert secret not in written
