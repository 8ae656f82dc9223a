"""The study console: who may see it, what it counts on a seeded study, and the CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest

from consentbot.domain.staff import SessionStage, StaffRole
from consentbot.domain.status import ConsentStatus
from consentbot.domain.suppression import Count, Hidden
from consentbot.services.console import FunnelStage
from consentbot.services.staff_login import StaffIdentity
from consentbot.web.staff_console import CONSOLE, spreadsheet_safe
from tests.console.seed import CONFIRMED, PEOPLE, PHONES, PURPOSE, READ, REFERENCES, seed_study
from tests.staff.conftest import StaffBrowser
from tests.support.content import SECOND_STUDY as OTHER_STUDY
from tests.support.journey import STUDY

PAGE = f"/staff/studies/{STUDY}"


async def log_in_as(
    staff: StaffBrowser, role: StaffRole, studies: tuple[str, ...] = (STUDY,)
) -> None:
    email = f"{role.value}@example.org"
    link = await staff.add(email, role, studies=studies if role is StaffRole.STUDY_TEAM else ())
    await staff.set_password(link)
    await staff.log_in(email)
    if role.needs_totp:
        await staff.enrol(email)


async def test_without_a_session_the_console_sends_you_to_log_in(staff: StaffBrowser) -> None:
    for path in (PAGE, f"{PAGE}/consent.csv"):
        response = await staff.client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/staff/login"


async def test_a_study_team_cannot_see_another_study(staff: StaffBrowser) -> None:
    await log_in_as(staff, StaffRole.STUDY_TEAM, studies=(OTHER_STUDY,))
    assert (await staff.client.get(PAGE)).status == 403
    assert (await staff.client.get(f"{PAGE}/consent.csv")).status == 403


async def test_a_community_worker_cannot_see_the_console(staff: StaffBrowser) -> None:
    await log_in_as(staff, StaffRole.COMMUNITY_WORKER)
    response = await staff.client.get(PAGE)
    assert response.status == 403
    assert "Your role does not give you access" in await response.text()


async def test_an_admin_is_told_a_missing_study_does_not_exist(staff: StaffBrowser) -> None:
    await log_in_as(staff, StaffRole.ADMIN)
    assert (await staff.client.get("/staff/studies/no-such-study")).status == 404
    assert (await staff.client.get(PAGE)).status == 200


async def test_the_console_counts_a_seeded_study(staff: StaffBrowser) -> None:
    await seed_study(staff.app)
    await log_in_as(staff, StaffRole.STUDY_TEAM)
    identity = StaffIdentity(
        user_id=1, email="x", role=StaffRole.STUDY_TEAM, studies=(STUDY,), organisation=None,
        session_id=1, csrf="", stage=SessionStage.READY, totp_enrolled=True,
    )
    view = await staff.app[CONSOLE].view(identity, STUDY)
    counts = view.counts
    row = counts.purposes.index(PURPOSE)
    cells = dict(zip(counts.statuses, counts.table.cells[row], strict=True))
    assert cells[ConsentStatus.ACTIVE] == Count(CONFIRMED)
    assert cells[ConsentStatus.DECLINED] == Count(None, Hidden.SMALL)  # 2
    assert cells[ConsentStatus.NONE] == Count(None, Hidden.SMALL)  # 2 never answered
    assert cells[ConsentStatus.PENDING] == Count(0)
    assert counts.table.row_totals[row] == Count(PEOPLE)
    other = counts.purposes.index(next(p for p in counts.purposes if p != PURPOSE))
    assert dict(zip(counts.statuses, counts.table.cells[other], strict=True))[
        ConsentStatus.NONE
    ] == Count(PEOPLE)
    funnel = dict(view.funnel)
    assert funnel[FunnelStage.INVITED] == Count(PEOPLE)
    assert funnel[FunnelStage.READ] == Count(READ)
    # 10 of 12 answered: the 2 who did not would be a small count by subtraction.
    assert funnel[FunnelStage.ANSWERED] == Count(None, Hidden.PROTECTING)
    assert funnel[FunnelStage.CONFIRMED] == Count(CONFIRMED)
    assert funnel[FunnelStage.DECLINED] == Count(None, Hidden.SMALL)
    assert funnel[FunnelStage.WITHDRAWN] == Count(0)
    assert funnel[FunnelStage.RECONSENT_REQUIRED] == Count(0)
    assert len(view.weeks) == 12
    assert view.weeks[-1].starts.isoformat() == "2026-11-30"  # Monday of 1 December 2026
    assert view.weeks[-1].confirmed == Count(CONFIRMED)
    assert view.weeks[-1].withdrawn == Count(0)
    assert all(week.confirmed == Count(0) for week in view.weeks[:-1])
    assert [(p.status.value, p.kind.value) for p in view.problems.outbox] == [
        ("failed", "invitation"),
        ("unknown", "invitation"),
    ]


async def test_the_page_shows_suppressed_counts_and_no_references_or_numbers(
    staff: StaffBrowser,
) -> None:
    await seed_study(staff.app)
    await log_in_as(staff, StaffRole.STUDY_TEAM)
    page = await staff.open(PAGE)
    assert staff.status == 200
    assert "&lt;5" in page
    assert "<svg" in page
    assert "<script" not in page
    for reference, phone in zip(REFERENCES, PHONES, strict=True):
        assert reference not in page
        assert phone[1:] not in page
    assert re.search(r"<th scope=\"row\">Opened a topic</th><td>7</td>", page)


async def test_the_csv_has_references_and_states_and_no_phone_numbers(staff: StaffBrowser) -> None:
    await seed_study(staff.app)
    await log_in_as(staff, StaffRole.ADMIN)
    response = await staff.client.get(f"{PAGE}/consent.csv")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    text = await response.text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["reference", "purpose", "status", "since", "content_version"]
    assert [(r["reference"], r["status"]) for r in rows] == [
        (reference, "active" if n < CONFIRMED else "declined")
        for n, reference in enumerate(REFERENCES[: CONFIRMED + 2])
    ]
    assert {r["purpose"] for r in rows} == {PURPOSE}
    for phone in PHONES:
        assert phone[1:] not in text  # neither 07400... nor +447400...


@pytest.mark.parametrize("value", ["=SUM(A1)", "+1", "-1", "@x"])
def test_references_are_made_inert_for_spreadsheets(value: str) -> None:
    assert spreadsheet_safe(value) == "'" + value
    assert spreadsheet_safe("REF-1") == "REF-1"
