"""The printable explanation with a person's choices: admins and the study's own team only,
each print written to the access log with the reason "print"."""

from __future__ import annotations

from consentbot import keys
from consentbot.domain.staff import AccessReason, StaffRole
from tests.printable.expected import missing, page_text
from tests.staff.conftest import StaffBrowser
from tests.support.content import SECOND_STUDY
from tests.support.journey import STUDY, ResearchSystem, translator

ADMIN = "admin@example.org"
REFERENCE = "P-0001"
PAGE = f"/staff/participants/{STUDY}/{REFERENCE}/print"


async def invite(staff: StaffBrowser, language: str = "ur") -> None:
    research = await ResearchSystem.register(staff.client)
    await research.invite("07400 900101", REFERENCE, language)


async def team_member(staff: StaffBrowser, email: str, study: str) -> None:
    link = await staff.add(email, StaffRole.STUDY_TEAM, studies=(study,))
    await staff.set_password(link)
    await staff.log_in(email)
    await staff.enrol(email)


async def test_without_a_staff_session_it_goes_to_the_login(staff: StaffBrowser) -> None:
    await invite(staff)
    await staff.open(PAGE)
    assert staff.url == "/staff/login"
    assert await staff.app[keys.STAFF_ACCESS].newest() == []


async def test_an_admin_prints_it_in_the_persons_language_with_their_choices_and_it_is_logged(
    staff: StaffBrowser,
) -> None:
    await invite(staff, "ur")
    await staff.account(ADMIN, StaffRole.ADMIN)
    await staff.open(PAGE)
    assert staff.status == 200
    assert '<html lang="ur" dir="rtl">' in staff.page
    shown = page_text(staff.page)
    study = staff.app[keys.STUDIES].get(STUDY)
    assert study is not None
    assert missing(study, "ur", shown) == []
    _ = translator("ur").gettext
    assert _("Your choices now") in shown
    for purpose in study.purpose_ids:
        title = study.text("ur").purposes[purpose].title
        assert f"{title} {_('not answered yet')}" in shown
    [entry] = await staff.app[keys.STAFF_ACCESS].newest()
    assert (entry.staff_email, entry.reason) == (ADMIN, AccessReason.PRINT)
    # Another language when asked for, still logged each time.
    await staff.open(PAGE + "?lang=en&large=1")
    assert '<html lang="en" dir="ltr">' in staff.page
    assert '<body class="large">' in staff.page
    assert len(await staff.app[keys.STAFF_ACCESS].newest()) == 2


async def test_the_studys_own_team_may_print_it(staff: StaffBrowser) -> None:
    await invite(staff)
    await team_member(staff, "team@example.org", STUDY)
    await staff.open(PAGE)
    assert staff.status == 200
    [entry] = await staff.app[keys.STAFF_ACCESS].newest()
    assert entry.staff_email == "team@example.org"


async def test_another_studys_team_is_refused_and_nothing_is_logged(staff: StaffBrowser) -> None:
    await invite(staff)
    await team_member(staff, "hips@example.org", SECOND_STUDY)
    await staff.open(PAGE)
    assert staff.status == 403
    assert "Your role does not give you access to this page." in staff.page
    assert await staff.app[keys.STAFF_ACCESS].newest() == []


async def test_a_community_worker_is_refused(staff: StaffBrowser) -> None:
    await invite(staff)
    await staff.account("worker@example.org", StaffRole.COMMUNITY_WORKER)
    await staff.open(PAGE)
    assert staff.status == 403
    assert await staff.app[keys.STAFF_ACCESS].newest() == []


async def test_an_unknown_person_or_study_is_a_404_and_nothing_is_logged(staff: StaffBrowser) -> None:
    await invite(staff)
    await staff.account(ADMIN, StaffRole.ADMIN)
    await staff.open(f"/staff/participants/{STUDY}/P-9999/print")
    assert staff.status == 404
    assert f"no participant 'P-9999' in study '{STUDY}'" in staff.page
    await staff.open("/staff/participants/no-such-study/P-0001/print")
    assert staff.status == 404
    assert "there is no study 'no-such-study'" in staff.page
    assert await staff.app[keys.STAFF_ACCESS].newest() == []
