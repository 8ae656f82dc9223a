"""A community worker's assisted session in Urdu, on a tablet, in Debian's Chromium.

The worker sets a password from the one-time link, logs in, registers a person on the spot
in Urdu, records an interpreter, reads a topic and answers the questions with the person,
in landscape (1024 x 768) and portrait (768 x 1024). The person's text and the replies are
Urdu, right to left; the controls stay in the worker's English. axe-core (every impact) finds
nothing on the find page or the session page, large print applies, and nothing scrolls
sideways.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from consentbot.conversation.vocabulary import Command
from consentbot.domain.staff import StaffRole
from tests.browser.harness import (
    BrowserTools,
    axe_violations,
    format_violations,
    launch_browser,
    new_page,
    require_browser_tools,
    screenshot,
)
from tests.staff.conftest import PASSWORD, StaffBrowser, make_staff, staff
from tests.support.journey import STUDY, ResearchSystem, words

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

__all__ = ["make_staff", "staff"]  # the staff browser fixtures

# SQLite only: what the session records is checked on both databases in tests/assisted.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

WORKER = "worker@example.org"
ORGANISATION = "Drop-in Centre"
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")
TABLET = {"landscape": (1024, 768), "portrait": (768, 1024)}
URDU = words("ur")
ANSWERS = [Command.YES, Command.NO, Command.YES, Command.NO, Command.YES]
"""One answer per purpose of the study, in the order it asks."""
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")

LARGE_PRINT_PX = 16 * 4 / 3
"""16 pt in CSS pixels (1 pt = 4/3 px): the smallest size of large print in the RNIB's clear
print guidance (large print is 16 to 22 pt; ordinary print 12 to 14 pt). The app's ordinary
text is 18 px (13.5 pt), so this fails unless the session page really enlarges its text."""

# Every piece of text on the session page that the worker or the person reads (headings
# are larger anyway), with its computed size in CSS pixels.
TEXT_SIZES = """() => Array.from(document.querySelectorAll(
    ".assisted p, .assisted li, .assisted summary, .assisted label, .assisted legend,"
    + " .assisted button, .assisted input:not([type=hidden]), .assisted .who"))
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => [el.tagName.toLowerCase() + (el.className ? "." + el.className : ""),
                parseFloat(getComputedStyle(el).fontSize)])"""

TOUCH_TARGET_PX = 24
"""WCAG 2.2's minimum target size (2.5.8, AA) in CSS pixels; a default checkbox is 13 px."""

SIDEWAYS = "document.scrollingElement.scrollWidth - window.innerWidth"


async def log_in_in_the_browser(page: Page, origin: str, link: str) -> None:
    """Set the password from the one-time link, then log in (workers need no second factor)."""
    await page.goto(origin + link)
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password").click()
    await page.goto(origin + "/staff/login")
    await page.get_by_label("Email address").fill(WORKER)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(origin + "/staff/")


async def check_page(page: Page, tools: BrowserTools, name: str) -> None:
    """No axe violation of any impact, no sideways scrolling; a screenshot."""
    await screenshot(page, name)
    violations = await axe_violations(page, ALL_IMPACTS, axe_path=tools.axe)
    assert violations == [], format_violations(violations)
    assert await page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways"


async def agreed_is_a_touch_target_beside_its_label(page: Page, box: Locator) -> None:
    """The checkbox is big enough to touch and on its label's line (not above it)."""
    box_rect = await box.bounding_box()
    label_rect = await page.locator("label[for=register-agreed]").bounding_box()
    assert box_rect is not None
    assert label_rect is not None
    assert min(box_rect["width"], box_rect["height"]) >= TOUCH_TARGET_PX, box_rect
    middle = label_rect["y"] + label_rect["height"] / 2
    assert box_rect["y"] <= middle <= box_rect["y"] + box_rect["height"], (box_rect, label_rect)


async def say(page: Page, text: str) -> None:
    """What the person says, typed by the worker."""
    await page.get_by_label("What the person says").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.wait_for_load_state()


@pytest.mark.parametrize("orientation", TABLET)
async def test_a_worker_takes_a_person_through_in_urdu_on_a_tablet(
    staff: StaffBrowser, orientation: str
) -> None:
    tools = require_browser_tools()
    link = await staff.add(WORKER, StaffRole.COMMUNITY_WORKER, org=ORGANISATION)
    origin = str(staff.client.make_url("/")).rstrip("/")
    async with launch_browser(tools) as browser, new_page(
        browser, javascript=True, locale="en-GB", viewport=TABLET[orientation]
    ) as page:
        await log_in_in_the_browser(page, origin, link)
        await page.get_by_role("link", name="Help someone in person").click()
        await page.wait_for_url(origin + "/staff/assisted")
        await check_page(page, tools, f"assisted-find-{orientation}")

        # Register the person on the spot, in Urdu, with their agreement.
        form = page.locator("form[action='/staff/assisted/register']")
        await form.get_by_label("Study").select_option(STUDY)
        await form.get_by_label("Their mobile number").fill("07400 900711")
        await form.get_by_label("Their language").select_option("ur")
        agreed = form.get_by_label("The person agreed to be registered")
        await agreed_is_a_touch_target_beside_its_label(page, agreed)
        await agreed.check()
        await form.get_by_role("button", name="Register and start").click()
        await page.wait_for_url(re.compile(r"/staff/assisted/\d+$"))
        await page.get_by_role("button", name="Record that an interpreter is present").click()
        await page.get_by_text("An interpreter is present.").wait_for()

        # Read a topic (the person asks for more, then opens the second), start the
        # questions, then answer each with the quick replies.
        await say(page, URDU.word(Command.MORE))
        await say(page, "2")
        await say(page, URDU.word(Command.YES))
        for answer in ANSWERS:
            quick = page.locator("form.quick")
            await quick.get_by_role("button", name=URDU.word(answer), exact=True).click()
            await page.wait_for_load_state()
        await check_page(page, tools, f"assisted-session-ur-{orientation}")

        # The page is the worker's English; the person's text and replies are Urdu, RTL.
        assert await page.evaluate("[document.documentElement.lang, document.dir]") == ["en", "ltr"]
        heading = page.get_by_role("heading", level=1)
        assert await heading.get_attribute("lang") == "ur"
        assert await heading.evaluate("(el) => getComputedStyle(el).direction") == "rtl"
        replies = page.locator(".transcript .message.out .body")
        assert await replies.count() >= 3 + len(ANSWERS)
        for reply in await replies.all():
            assert await reply.get_attribute("lang") == "ur"
            assert await reply.evaluate("(el) => getComputedStyle(el).direction") == "rtl"
            assert ARABIC_SCRIPT.search(await reply.inner_text())
        said = await page.locator(".transcript .message.in .body").all_inner_texts()
        assert said == [URDU.word(Command.MORE), "2", URDU.word(Command.YES), *(URDU.word(a) for a in ANSWERS)]
        for control in ("Send", "Record that an interpreter is present"):
            button = page.get_by_role("button", name=control, exact=True)
            if await button.count():
                assert await button.evaluate("(el) => getComputedStyle(el).direction") == "ltr"
        assert await page.get_by_text("Quick replies").is_visible()
        assert await page.get_by_text("The person's conversation").is_visible()

        reference = re.search(r"K-[A-Z0-9]+", await page.locator(".session-facts").inner_text())
        assert reference

        # Large print: every piece of text on the session page is at least 16 pt.
        sizes = await page.evaluate(TEXT_SIZES)
        assert len(sizes) > 10
        small = [(what, size) for what, size in sizes if size < LARGE_PRINT_PX]
        assert small == [], f"smaller than large print ({LARGE_PRINT_PX:.2f} px): {small}"

    # The answers went through the pipeline, attributed to the worker and the interpreter.
    research = await ResearchSystem.register(staff.client)
    history = await research.history(reference.group(0))
    assert [e["to"] for e in history] == ["pending", "declined", "pending", "declined", "pending"]
    assert {e["assisted_by"] for e in history} == {f"{WORKER} ({ORGANISATION}) with interpreter"}

