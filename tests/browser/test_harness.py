"""Self-test of the browser harness: real headless Chromium against an aiohttp server."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.browser import harness
from tests.browser.harness import (
    BrowserTools,
    axe_violations,
    format_violations,
    launch_browser,
    new_page,
    screenshot,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

CSP = "default-src 'self'; script-src 'self'"

HEAD = """<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css">"""

# Clean under WCAG 2.x A/AA: language, title, landmark, heading, labelled input.
# The inline script must never run: the CSP forbids it (the harness keeps the CSP).
INDEX = f"""<!doctype html>
<html lang="en">
<head>{HEAD}<title>Harness self-test</title></head>
<body>
<main>
<h1>Consent</h1>
<p id="status">Waiting for JavaScript</p>
<form action="/" method="get">
<label for="reply">Your reply</label>
<input id="reply" name="reply" type="text">
<button type="submit">Send</button>
</form>
</main>
<script>document.title = "inline script ran";</script>
<script src="/app.js"></script>
</body>
</html>
"""

APP_JS = """document.getElementById("status").textContent = "JavaScript ran";
document.documentElement.dataset.language = navigator.language;
"""

STYLE = """body { font-family: "DejaVu Sans", sans-serif; margin: 2rem; color: #111; background: #fff; }
main { max-width: 40rem; }
"""

# Deliberate serious/critical violations: an image without alt, an unlabelled input.
BROKEN = f"""<!doctype html>
<html lang="en">
<head>{HEAD}<title>Broken page</title></head>
<body>
<main>
<h1>Broken</h1>
<img src="/pixel.svg" width="20" height="20">
<form action="/" method="get"><input id="unlabelled" name="reply" type="text"></form>
</main>
</body>
</html>
"""

# Shown only without JavaScript: axe must still check it then.
NOSCRIPT = f"""<!doctype html>
<html lang="en">
<head>{HEAD}<title>Noscript page</title></head>
<body>
<main>
<h1>Fallback</h1>
<noscript><form action="/" method="get"><input id="fallback" name="reply" type="text"></form></noscript>
</main>
</body>
</html>
"""

RTL = f"""<!doctype html>
<html lang="ur" dir="rtl">
<head>{HEAD}<title>رضامندی</title></head>
<body>
<main>
<h1>رضامندی</h1>
<p id="question">کیا آپ تحقیق میں حصہ لینا چاہیں گے؟</p>
</main>
</body>
</html>
"""

PIXEL = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="#036"/></svg>'


class Site:
    """The test pages; remembers each request's Accept-Language."""

    def __init__(self) -> None:
        self.accept_language: list[str] = []

    def app(self) -> web.Application:
        @web.middleware
        async def csp(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            self.accept_language.append(request.headers.get("Accept-Language", ""))
            response = await handler(request)
            response.headers["Content-Security-Policy"] = CSP
            return response

        def page(
            body: str, content_type: str = "text/html"
        ) -> Callable[..., Awaitable[web.Response]]:
            async def handler(_: web.Request) -> web.Response:
                return web.Response(text=body, content_type=content_type, charset="utf-8")

            return handler

        app = web.Application(middlewares=[csp])
        app.router.add_get("/", page(INDEX))
        app.router.add_get("/broken", page(BROKEN))
        app.router.add_get("/noscript", page(NOSCRIPT))
        app.router.add_get("/rtl", page(RTL))
        app.router.add_get("/app.js", page(APP_JS, "text/javascript"))
        app.router.add_get("/style.css", page(STYLE, "text/css"))
        app.router.add_get("/pixel.svg", page(PIXEL, "image/svg+xml"))
        return app


@pytest.fixture
def tools() -> BrowserTools:
    return harness.require_browser_tools()


@pytest.fixture
async def browser(tools: BrowserTools) -> AsyncIterator[Browser]:
    async with launch_browser(tools) as launched:
        yield launched


@pytest.fixture
def site() -> Site:
    return Site()


@pytest.fixture
async def base_url(aiohttp_server: ServerFactory, site: Site) -> str:
    server = await aiohttp_server(site.app())
    return str(server.make_url("/")).rstrip("/")


async def test_javascript_on_and_off_under_strict_csp(
    browser: Browser, base_url: str, site: Site
) -> None:
    async with new_page(browser, javascript=True, locale="ur", viewport=(390, 844)) as page:
        response = await page.goto(f"{base_url}/")
        assert response is not None
        assert response.headers["content-security-policy"] == CSP
        assert await page.text_content("#status") == "JavaScript ran"
        assert await page.evaluate("navigator.language") == "ur"
        assert await page.get_attribute("html", "data-language") == "ur"
        assert await page.title() == "Harness self-test", "the CSP must block inline script"
        shot = await screenshot(page, "harness/index ur js-on")
    assert shot == harness.SCREENSHOT_DIR / "harness_index_ur_js-on.png"
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert site.accept_language[0].startswith("ur")

    async with new_page(browser, javascript=False, locale="ur") as page:
        await page.goto(f"{base_url}/")
        assert await page.text_content("#status") == "Waiting for JavaScript"
        assert await page.get_attribute("html", "data-language") is None
        shot = await screenshot(page, "harness/index ur js-off")
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert all(value.startswith("ur") for value in site.accept_language)


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_axe_reports_serious_violations_and_none_on_a_clean_page(
    browser: Browser, base_url: str, javascript: bool
) -> None:
    async with new_page(browser, javascript=javascript, locale="en") as page:
        await page.goto(f"{base_url}/")
        clean = await axe_violations(page)
        assert not clean, format_violations(clean)
        if javascript:  # axe ran inside the page without disturbing it
            assert await page.text_content("#status") == "JavaScript ran"

        await page.goto(f"{base_url}/broken")
        await screenshot(page, f"harness/broken {'js-on' if javascript else 'js-off'}")
        broken = await axe_violations(page)
    by_id = {v["id"]: v for v in broken}
    assert set(by_id) == {"image-alt", "label"}, format_violations(broken)
    assert by_id["image-alt"]["impact"] == "critical"
    assert by_id["image-alt"]["targets"] == ["img"]
    assert by_id["label"]["targets"] == ["#unlabelled"]
    message = format_violations(broken)
    assert message.startswith("2 axe violation(s):")
    assert "[critical] image-alt: Images must have alternative text" in message
    assert "#unlabelled" in message
    assert repr(broken) == message


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_axe_checks_noscript_content_only_without_javascript(
    browser: Browser, base_url: str, javascript: bool
) -> None:
    async with new_page(browser, javascript=javascript, locale="en") as page:
        await page.goto(f"{base_url}/noscript")
        violations = await axe_violations(page)
        # The <noscript> element is back in place after the run.
        assert await page.evaluate("document.querySelectorAll('noscript').length") == 1
        assert await page.evaluate("document.querySelectorAll('[data-axe-noscript]').length") == 0
        if not javascript:
            assert await page.is_visible("#fallback")
    if javascript:
        assert not violations, format_violations(violations)
    else:
        assert [(v["id"], v["targets"]) for v in violations] == [("label", ["#fallback"])], (
            format_violations(violations)
        )


async def test_right_to_left_page(browser: Browser, base_url: str) -> None:
    for javascript in (True, False):
        async with new_page(browser, javascript=javascript, locale="ur") as page:
            await page.goto(f"{base_url}/rtl")
            assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            assert await page.text_content("h1") == "رضامندی"
            await screenshot(page, f"harness/rtl ur {'js-on' if javascript else 'js-off'}")
            violations = await axe_violations(page)
            assert not violations, format_violations(violations)


async def test_add_script_tag_is_refused_under_the_csp(browser: Browser, base_url: str) -> None:
    """Why the harness injects axe with ``evaluate``: the inline tag breaks the CSP."""
    from playwright.async_api import Error

    async with new_page(browser, javascript=True, locale="en") as page:
        await page.goto(f"{base_url}/")
        with pytest.raises(Error, match="Content Security Policy"):
            await page.add_script_tag(path=harness.AXE_PATH)
        assert await axe_violations(page) == []


def test_missing_chromium_skips_locally_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        harness.find_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        harness.find_chromium()


def test_missing_axe_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(harness, "AXE_PATH", tmp_path / "axe.min.js")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="npm ci --prefix tests/browser"):
        harness.find_axe()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        harness.find_axe()


def test_safe_name() -> None:
    assert harness.safe_name("test_x[ur-js on]/step 1") == "test_x_ur-js_on_step_1"
    assert harness.safe_name("../../etc/passwd") == "etc_passwd"
    assert harness.safe_name("") == "screenshot"
    assert len(harness.safe_name("x" * 500)) == 120
