"""The printable explanation printed by Debian's Chromium to an A4 PDF, normal and large print:
every page is A4 and the PDF's text holds the whole explanation. axe-core checks the page."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from consentbot import keys
from tests.browser.harness import (
    axe_violations,
    format_violations,
    launch_browser,
    new_page,
    require_browser_tools,
    screenshot,
)
from tests.conftest import AppClient
from tests.printable.expected import flat, missing
from tests.support.journey import STUDY

# SQLite only: the page's content is checked on both databases in tests/printable.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

A4 = (595.28, 841.89)
"""A4 in PDF points (210 x 297 mm); Chromium rounds its page size up to whole CSS pixels."""


def is_a4(reader: PdfReader) -> bool:
    """Every page is A4, to within a point (Chromium's rounding to CSS pixels)."""
    return all(
        abs(float(p.mediabox.width) - A4[0]) < 1 and abs(float(p.mediabox.height) - A4[1]) < 1
        for p in reader.pages
    )


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
async def test_the_explanation_prints_to_a4_with_all_its_text(web_client: AppClient, large: bool) -> None:
    tools = require_browser_tools()
    study = web_client.app[keys.STUDIES].get(STUDY)
    assert study is not None
    url = web_client.make_url(f"/studies/{STUDY}/print?lang=en" + ("&large=1" if large else ""))
    async with launch_browser(tools) as browser, new_page(browser, javascript=False, locale="en") as page:
        await page.goto(str(url))
        await screenshot(page, f"printable-en-{'large' if large else 'normal'}")
        violations = await axe_violations(page)
        assert not violations, format_violations(violations)
        pdf = await page.pdf(format="A4")
    reader = PdfReader(io.BytesIO(pdf))
    assert is_a4(reader), [p.mediabox for p in reader.pages]
    text = flat(" ".join(p.extract_text() for p in reader.pages))
    assert missing(study, "en", text, spaces=False) == []
    # Large print takes more paper for the same words.
    assert len(reader.pages) >= (8 if large else 3)


async def test_the_urdu_page_prints_right_to_left_on_a4(web_client: AppClient) -> None:
    tools = require_browser_tools()
    url = web_client.make_url(f"/studies/{STUDY}/print?lang=ur&large=1")
    async with launch_browser(tools) as browser, new_page(browser, javascript=False, locale="ur") as page:
        await page.goto(str(url))
        assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        await screenshot(page, "printable-ur-large")
        violations = await axe_violations(page)
        assert not violations, format_violations(violations)
        pdf = await page.pdf(format="A4")
    reader = PdfReader(io.BytesIO(pdf))
    assert is_a4(reader), [p.mediabox for p in reader.pages]
