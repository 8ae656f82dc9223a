"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, plus axe-core.

Design
------
* **Debian's browser, never Playwright's.** The machines reach PyPI, Debian and npm
  only, so ``playwright install`` cannot work. :func:`launch_browser` starts
  ``chromium`` from ``PATH`` (Debian's wrapper ``/usr/bin/chromium``) with
  ``executable_path`` and the flags in :data:`CHROMIUM_ARGS`; Playwright gives it a
  fresh temporary profile (``--user-data-dir``) and removes it on close. Without the
  ``--disable-background-networking`` / ``--disable-component-update`` /
  ``--disable-sync`` flags Chromium keeps trying hosts this closed network refuses.
* **One event loop.** Only Playwright's *async* API is used, inside the test's own
  event loop (pytest-asyncio, function scope): :func:`launch_browser` starts the
  Playwright driver (a Node process shipped in the ``playwright`` wheel) and the
  browser, and closes both on exit, so nothing is left for ``filterwarnings =
  error`` to turn into a ``ResourceWarning``.
* **Pages.** :func:`new_page` opens a fresh browser context (no shared cookies or
  storage) with JavaScript on or off and a locale (``navigator.language`` and the
  ``Accept-Language`` header), and closes the context on exit.
* **axe-core under a strict Content-Security-Policy, with or without JavaScript.**
  ``page.add_script_tag(path=...)`` inserts an *inline* ``<script>``, which a page
  served with ``script-src 'self'`` refuses (Playwright raises "Executing inline
  script violates the following Content Security Policy directive"), and which a
  context with JavaScript disabled never runs. ``bypass_csp=True`` on the context
  would get the tag in, but would also switch the policy off for the page's own
  scripts, so a test could no longer see that the app breaks its CSP.
  :func:`axe_violations` therefore sends axe's source with ``page.evaluate``
  (DevTools' ``Runtime.evaluate``, which a page's CSP does not govern; axe itself
  needs no ``eval``), exactly as ``@axe-core/playwright`` does; the page keeps its
  CSP. ``bypass_csp`` stays available through ``new_page(**context_options)``.

  With JavaScript disabled, ``page.evaluate`` still runs, but Chromium runs no
  *callbacks*: timers, ``queueMicrotask``, event listeners, observers, message
  ports (promise reactions do run). ``axe.run()`` waits on ``setTimeout``, so it
  would hang. For such a page (detected by dispatching an event to a listener) the
  harness first installs a small scheduler in the page that runs ``setTimeout`` /
  ``queueMicrotask`` / ``requestAnimationFrame`` callbacks as promise reactions (a
  timer of a second or more, which axe uses only as a watchdog and clears, never
  fires), and runs axe with ``iframes: false`` (frames talk through ``postMessage``,
  which needs listeners). No script of the page can run there, so nothing else sees
  the scheduler.

  axe treats ``<noscript>`` as always hidden, which is wrong for a page without
  JavaScript: its ``<noscript>`` content is what the person sees. So for such a
  page the harness swaps each ``<noscript>`` element for a
  ``<span data-axe-noscript>`` holding the same children (``<noscript>`` renders
  inline there, as a span does) for the duration of the run and swaps it back
  after; a reported target without an id may read ``span[data-axe-noscript] > ...``.

Usage (the fixtures are the caller's)::

    tools = require_browser_tools()            # skip, or fail when CI=true
    async with launch_browser(tools) as browser, new_page(
        browser, javascript=False, locale="ur", viewport=(390, 844)
    ) as page:
        await page.goto(url)
        await screenshot(page, "chat-ur-nojs")
        violations = await axe_violations(page)
        assert not violations, format_violations(violations)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = Path(__file__).resolve().parent
AXE_PATH = BROWSER_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Flags for Debian's chromium here (Playwright adds its own automation flags)."""

DEFAULT_TIMEOUT_MS = 15_000
"""Playwright's per-action timeout for pages from :func:`new_page` (its default is 30 s)."""
LAUNCH_TIMEOUT_MS = 60_000
"""How long :func:`launch_browser` waits for Chromium to come up."""
AXE_TIMEOUT_S = 60.0
"""Bound on one axe run (``page.evaluate`` has no timeout of its own); ~0.1 s normally."""

WCAG_TAGS: tuple[str, ...] = (
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22a",
    "wcag22aa",
)
"""axe rule tags run by :func:`axe_violations`: WCAG 2.0, 2.1 and 2.2, levels A and AA."""
DEFAULT_IMPACTS: tuple[str, ...] = ("serious", "critical")


def _missing(reason: str) -> NoReturn:
    """Skip the test; fail it instead when ``CI=true`` (CI must never silently skip)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}. CI=true, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True, slots=True)
class BrowserTools:
    """Where the browser and axe-core are; from :func:`require_browser_tools`."""

    chromium: Path
    axe: Path


def find_chromium() -> Path:
    """Debian's ``chromium`` on ``PATH``; skips the test (fails when ``CI=true``) without it."""
    found = shutil.which("chromium")
    if found is None:
        _missing(
            "Chromium is not installed (no `chromium` on PATH); install Debian's chromium "
            "package: apt-get install -y --no-install-recommends chromium"
        )
    return Path(found)


def find_axe() -> Path:
    """``axe.min.js`` from ``tests/browser/node_modules``; skips (fails on CI) without it."""
    if not AXE_PATH.is_file():
        _missing(
            f"axe-core is not installed ({os.path.relpath(AXE_PATH, ROOT)} is missing); "
            "run: npm ci --prefix tests/browser"
        )
    return AXE_PATH


def require_playwright() -> None:
    """Skip (fail on CI) when the ``playwright`` Python package is not installed."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _missing("the playwright Python package is not installed (pip install playwright)")


def require_browser_tools() -> BrowserTools:
    """Everything the browser tests need, or a skip (a failure when ``CI=true``)."""
    require_playwright()
    return BrowserTools(chromium=find_chromium(), axe=find_axe())


@contextlib.asynccontextmanager
async def launch_browser(
    tools: BrowserTools | None = None, *, extra_args: Sequence[str] = ()
) -> AsyncIterator[Browser]:
    """Start Playwright and Debian's headless Chromium; close both on exit."""
    chromium = (tools or require_browser_tools()).chromium
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium,
            args=[*CHROMIUM_ARGS, *extra_args],
            headless=True,
            timeout=LAUNCH_TIMEOUT_MS,
        )
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def new_page(
    browser: Browser,
    *,
    javascript: bool,
    locale: str,
    viewport: tuple[int, int] = (1280, 800),
    **context_options: Any,
) -> AsyncIterator[Page]:
    """A page in a fresh context; the context (and page) close on exit.

    ``locale`` sets ``navigator.language`` and the ``Accept-Language`` header;
    ``javascript=False`` disables the page's scripts. Other keyword arguments go to
    ``browser.new_context`` (e.g. ``color_scheme="dark"``, ``reduced_motion="reduce"``).
    """
    width, height = viewport
    context = await browser.new_context(
        java_script_enabled=javascript,
        locale=locale,
        viewport={"width": width, "height": height},
        **context_options,
    )
    try:
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        yield await context.new_page()
    finally:
        await context.close()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """``name`` as a file name: runs of other characters become ``_``; at most 120 chars."""
    cleaned = _UNSAFE.sub("_", name).strip("._")[:120]
    return cleaned or "screenshot"


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as ``test-artifacts/screenshots/<safe name>.png``; its path."""
    path = SCREENSHOT_DIR / f"{safe_name(name)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=path, full_page=True)
    return path


# Is JavaScript enabled? With it disabled, event listeners never run (evaluate does).
_JS_PROBE = """() => {
  let ran = false;
  const target = new EventTarget();
  target.addEventListener("probe", () => { ran = true; });
  target.dispatchEvent(new Event("probe"));
  return ran;
}"""

# For a page without JavaScript: run timer/microtask callbacks as promise reactions,
# the one kind of callback Chromium still runs there. Watchdog timers (>= 1 s) never fire.
_NO_JS_SCHEDULER = """() => {
  if (window.__axeScheduler) return;
  window.__axeScheduler = true;
  const live = new Set();
  let next = 1;
  window.setTimeout = (fn, ms = 0, ...args) => {
    const id = next++;
    if (typeof fn !== "function" || ms >= 1000) return id;
    live.add(id);
    Promise.resolve().then(() => { if (live.delete(id)) fn(...args); });
    return id;
  };
  window.clearTimeout = (id) => { live.delete(id); };
  window.queueMicrotask = (fn) => { Promise.resolve().then(() => fn()); };
  window.requestAnimationFrame = (fn) => window.setTimeout(() => fn(performance.now()), 0);
  window.cancelAnimationFrame = window.clearTimeout;
}"""

_AXE_RUN = """async ({tags, impacts, javascript}) => {
  const swapped = [];
  if (!javascript) {
    for (const noscript of Array.from(document.querySelectorAll("noscript"))) {
      const span = document.createElement("span");
      span.setAttribute("data-axe-noscript", "");
      while (noscript.firstChild) span.appendChild(noscript.firstChild);
      noscript.replaceWith(span);
      swapped.push([noscript, span]);
    }
  }
  try {
    const results = await axe.run(document, {
      runOnly: {type: "tag", values: tags},
      resultTypes: ["violations"],
      iframes: javascript,
      preload: javascript,
    });
    return results.violations
      .filter((v) => impacts.includes(v.impact))
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        help_url: v.helpUrl,
        targets: v.nodes.map((n) => n.target.flat(Infinity).join(" >>> ")),
        html: v.nodes.map((n) => n.html),
      }));
  } finally {
    for (const [noscript, span] of swapped.reverse()) {
      while (span.firstChild) noscript.appendChild(span.firstChild);
      span.replaceWith(noscript);
    }
  }
}"""


@functools.cache
def _axe_source(path: Path) -> str:
    return path.read_text(encoding="utf-8") + "\n//# sourceURL=axe.min.js\n"


class AxeViolations(list[dict[str, Any]]):
    """The violations; its ``repr`` is :func:`format_violations`, for assertion messages."""

    def __repr__(self) -> str:
        return format_violations(self)

    __str__ = __repr__


def format_violations(violations: Iterable[dict[str, Any]]) -> str:
    """One block per rule: impact, id, help, URL, then each offending node."""
    blocks = []
    for v in violations:
        lines = [f"[{v['impact']}] {v['id']}: {v['help']} ({v['help_url']})"]
        for target, html in zip(v["targets"], v["html"], strict=True):
            snippet = html if len(html) <= 160 else html[:157] + "..."
            lines.append(f"    {target}    {snippet}")
        blocks.append("\n".join(lines))
    if not blocks:
        return "no axe violations"
    return f"{len(blocks)} axe violation(s):\n" + "\n".join(blocks)


async def axe_violations(
    page: Page,
    impacts: Sequence[str] = DEFAULT_IMPACTS,
    *,
    tags: Sequence[str] = WCAG_TAGS,
    axe_path: Path | None = None,
) -> AxeViolations:
    """Run axe-core on the page's current document; its violations of those impacts.

    Each violation is ``{"id", "impact", "help", "help_url", "targets", "html"}``
    (``targets`` and ``html`` list the offending nodes). Works under a strict CSP and
    with JavaScript disabled (see the module docstring). With JavaScript on, axe is
    injected into every frame so that same- and cross-origin iframes are checked too.
    """
    source = _axe_source(axe_path or find_axe())
    javascript = bool(await page.evaluate(_JS_PROBE))
    frames = page.frames if javascript else [page.main_frame]
    for frame in frames:
        if frame.is_detached():
            continue
        if not javascript:
            await frame.evaluate(_NO_JS_SCHEDULER)
        if await frame.evaluate("typeof window.axe") == "undefined":
            await frame.evaluate(source)
    run = page.evaluate(
        _AXE_RUN,
        {"tags": list(tags), "impacts": list(impacts), "javascript": javascript},
    )
    try:
        found = await asyncio.wait_for(run, AXE_TIMEOUT_S)
    except TimeoutError:
        raise AssertionError(
            f"axe.run() did not finish within {AXE_TIMEOUT_S:g} s on {page.url} "
            f"(JavaScript {'on' if javascript else 'off'})"
        ) from None
    return AxeViolations(found)
