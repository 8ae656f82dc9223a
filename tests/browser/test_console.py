"""The study console in Debian's Chromium: axe-core finds no violations, with JavaScript
off (the console has none) and in English and Urdu (right to left)."""

from __future__ import annotations

import pytest

from consentbot.domain.staff import StaffRole
from tests.browser.harness import (
    axe_violations,
    format_violations,
    launch_browser,
    new_page,
    require_browser_tools,
    screenshot,
)
from tests.console.seed import seed_study
from tests.console.test_console_page import PAGE, log_in_as
from tests.staff.conftest import StaffBrowser, make_staff, staff

__all__ = ["make_staff", "staff"]  # the staff browser fixtures

# SQLite only: the console's counts run on both databases in tests/console.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


@pytest.mark.parametrize("locale", ["en-GB", "ur"])
async def test_the_console_has_no_axe_violations(staff: StaffBrowser, locale: str) -> None:
    tools = require_browser_tools()
    await seed_study(staff.app)
    await log_in_as(staff, StaffRole.STUDY_TEAM)
    origin = str(staff.client.make_url("/")).rstrip("/")
    cookies = [
        {"name": cookie.key, "value": cookie.value, "url": origin + "/staff/", "secure": True}
        for cookie in staff.client.session.cookie_jar
    ]
    async with launch_browser(tools) as browser, new_page(
        browser, javascript=False, locale=locale
    ) as page:
        await page.context.add_cookies(cookies)  # type: ignore[arg-type]
        response = await page.goto(origin + PAGE)
        assert response is not None
        assert response.status == 200
        assert await page.locator("svg[role=img] title").count() == 1
        assert await page.get_by_role("table").count() == 4
        await screenshot(page, f"console-{locale}")
        violations = await axe_violations(page, ALL_IMPACTS, axe_path=tools.axe)
        assert violations == [], format_violations(violations)
