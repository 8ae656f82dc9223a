"""The web chat end to end in a real browser: JavaScript on and off, English and Urdu.

Each test starts the real app (``web_client``: aiohttp's TestServer on 127.0.0.1, its
public URL is itself, Twilio is the fake in ``fake_twilio``), launches Debian's headless
Chromium (one per test: see ``harness``) and drives the page as a person would, through
roles and labels taken from the shipped catalogs. Every step is saved as a screenshot in
``test-artifacts/screenshots/`` and checked with axe-core (no serious or critical
violations). Time only moves when a test moves ``clock``; ``settle`` then runs the timers
and sends the SMS outbox, as the background loops would.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from sqlmodel import select

from consentbot import keys
from consentbot.content.model import Study
from consentbot.conversation.vocabulary import Command
from consentbot.services.clock import ManualClock
from consentbot.store.tables import Participant
from tests.browser.harness import (
    BrowserTools,
    axe_violations,
    format_violations,
    launch_browser,
    new_page,
    require_browser_tools,
    screenshot,
)
from tests.conftest import AppClient, settle
from tests.support.journey import PURPOSES, STUDY, ResearchSystem, link_in, translator, words
from tests.support.twilio_fake import FakeTwilio

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

# SQLite only: the same flows run on both databases over plain HTTP in tests/web.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CODE = re.compile(r"\b(\d{6})\b")
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
"""Invisible direction marks and isolates (around phone numbers, emails, keywords in RTL)."""
PLACEHOLDER = re.compile(r"\{(\w+)\}")
ANSWERS = (Command.YES, Command.NO, Command.YES, Command.NO, Command.YES)
"""One answer per purpose, in the order the questions come (the study's purposes)."""

# What the bot says at each step: msgids of the shipped catalogs, checked in the page's
# language through ``WebPatient.said``.
VERIFY_FIRST = (
    "Before your answers can count, we need to check your mobile number. "
    "This lets you check, change or withdraw later by text as well. We will text you a code."
)
NUMBER_CHECKED = "Thank you. Your number is checked. You can now answer here or by text."
QUESTION = "Question {number} of {total}: {title}"
ANSWERS_WAIT = (
    "Thank you. Your answers are saved, but they do not count yet: take time to think. "
    "From {opens} you can reply {confirm} to make them count. We will remind you. "
    "If you do not confirm by {expires}, they will not count."
)
CONFIRM_TOO_EARLY = (
    "Not yet: you still have time to think. You can confirm from {opens}. Nothing has changed."
)
REMINDER = (
    "Hello from {title}. Your time to think is over. To make your answers count, "
    "reply {confirm} by {expires}. Reply {choices} to check them first, "
    "or {change} to change them. If you have changed your mind, do nothing: they will not count."
)
CONFIRMED = ("Thank you. This choice now counts:", "Thank you. These choices now count:")
WITHDRAWN = (
    "You have left {title}. From now on, your data will not be used for anything new. "
    "Your care is not affected. To ask for your data to be deleted where that is still "
    "possible, call {phone} or email {email}. To join again, reply {keyword}."
)
CODE_SENT = "If we can text that number, we have sent it a code. It works for 10 minutes."


# --------------------------------------------------------------------------- helpers


def squash(text: str | None) -> str:
    """``text`` as read: runs of whitespace as one space (message bodies keep their newlines),
    without invisible direction controls."""
    return " ".join((text or "").translate(BIDI_CONTROLS).split())


def fixed_part(template: str, **values: object) -> str:
    """The longest stretch of a translated sentence once the known placeholders are filled.

    Replies contain dates and times that depend on the clock and the locale; cutting the
    sentence at those keeps the check in the catalog's own words without re-rendering them.
    """
    stretches = [""]
    for index, piece in enumerate(PLACEHOLDER.split(template)):
        if index % 2 == 0:
            stretches[-1] += piece
        elif piece in values:
            stretches[-1] += str(values[piece])
        else:
            stretches.append("")
    return max((squash(stretch) for stretch in stretches), key=len)


def keywords(language: str) -> dict[str, str]:
    """``{yes}``, ``{confirm}``, ... as the bot shows them in ``language``."""
    vocabulary = words(language)
    return {command.value: vocabulary.word(command) for command in Command}


def international(number: str) -> str:
    """A UK mobile number as the service stores it ("07400 900801" -> "+447400900801")."""
    return "+44" + number.replace(" ", "").removeprefix("0")


def the_study(app: web.Application) -> Study:
    study = app[keys.STUDIES].get(STUDY)
    assert study is not None
    return study


async def participants(app: web.Application) -> list[Participant]:
    async with app[keys.DATABASE].transaction() as session:
        return list((await session.exec(select(Participant))).all())


def shot_name(prefix: str, language: str, javascript: bool) -> str:
    return f"{prefix}_{language}_js-{'on' if javascript else 'off'}"


async def assert_axe_clean(page: Page) -> None:
    violations = await axe_violations(page)
    assert not violations, format_violations(violations)


async def assert_no_horizontal_scroll(page: Page) -> None:
    width, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner + 1, f"the page scrolls sideways: scrollWidth {width} > {inner}"


async def assert_inside_viewport(page: Page, locator: Locator) -> None:
    """Every element of ``locator`` is visible and lies across the viewport's width."""
    inner = int(await page.evaluate("window.innerWidth"))
    count = await locator.count()
    assert count > 0
    for index in range(count):
        item = locator.nth(index)
        await expect(item).to_be_visible()
        box = await item.bounding_box()
        assert box is not None
        label = squash(await item.text_content())
        assert box["x"] >= -1, f"{label!r} starts off-screen at x={box['x']}"
        assert box["x"] + box["width"] <= inner + 1, (
            f"{label!r} ends off-screen at {box['x'] + box['width']} > {inner}"
        )


def expect(target: Any) -> Any:
    """Playwright's web-first assertion (imported late: the harness may skip first)."""
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


# A voice for speech synthesis where the browser has none, and a record of what is spoken.
# The app sets ``utterance.voice`` to the voice it found; Chromium only accepts a real
# SpeechSynthesisVoice there (which no script can construct), so the stub also turns the
# ``voice`` property into a plain one.
SPEECH_STUB = """(() => {
  const voices = %s.map((v) => ({voiceURI: v.name, name: v.name, lang: v.lang,
                                   localService: true, default: false}));
  window.__spoken = [];
  Object.defineProperty(SpeechSynthesisUtterance.prototype, "voice", {
    configurable: true,
    get() { return this.__voice || null; },
    set(value) { this.__voice = value; },
  });
  speechSynthesis.getVoices = () => voices;
  speechSynthesis.cancel = () => {};
  speechSynthesis.speak = (u) => {
    window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.lang});
  };
})();"""


def speech_stub(*voices: tuple[str, str]) -> str:
    """An init script giving the browser these ``(name, lang)`` voices."""
    return SPEECH_STUB % json.dumps([{"name": name, "lang": lang} for name, lang in voices])


@dataclass
class WebPatient:
    """A person using the web chat in one browser page, in one language."""

    page: Page
    app: web.Application
    fake_twilio: FakeTwilio
    language: str
    javascript: bool
    name: str
    """Prefix of this person's screenshots."""
    steps: int = 0
    navigations: int = 0

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._navigated)

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1

    # -- words and places on the page, in the page's language

    def _(self, message: str) -> str:
        return translator(self.language).gettext(message)

    def word(self, command: Command) -> str:
        return words(self.language).word(command)

    def said(self, message: str, **values: object) -> str:
        """The fixed words of a catalog sentence, as the bot says it in this language."""
        study = the_study(self.app)
        known = {
            "title": study.text(self.language).title,
            "phone": study.contact.phone,
            "email": study.contact.email,
            "keyword": study.keyword,
            **keywords(self.language),
            **values,
        }
        return fixed_part(self._(message), **known)

    @property
    def quick_replies(self) -> Locator:
        return self.page.get_by_role("group", name=self._("Quick replies"))

    @property
    def message_box(self) -> Locator:
        return self.page.get_by_label(self._("Your message"), exact=True)

    @property
    def verification(self) -> Locator:
        return self.page.get_by_role("region", name=self._("Check your mobile number"))

    async def latest(self) -> str:
        """The newest message in the conversation."""
        return squash(await self.page.locator("#latest .body").text_content())

    async def messages(self) -> list[str]:
        bodies = self.page.locator(".transcript .body")
        return [squash(text) for text in await bodies.all_text_contents()]

    # -- what the person does

    async def open(self, url: str) -> None:
        response = await self.page.goto(url)
        assert response is not None
        assert response.ok, response.status
        if self.javascript:
            await self.page.evaluate("window.__marker = 'still the first page'")

    async def say(self, text: str) -> str:
        """Type ``text`` in the message box and press Enter; the newest reply."""
        await self.message_box.fill(text)
        return await self._send(self.message_box.press("Enter"))

    async def tap(self, command: Command) -> str:
        """Press the quick reply for ``command``; the newest reply."""
        button = self.quick_replies.get_by_role("button", name=self.word(command), exact=True)
        return await self._send(button.click())

    async def _send(self, action: Any) -> str:
        transcript = self.page.locator(".transcript")
        before = await transcript.get_attribute("data-last")
        navigations = self.navigations
        await action
        await expect(transcript).not_to_have_attribute("data-last", before or "0")
        await self.page.wait_for_load_state()
        reply = await self.latest()
        await self._check_delivery(navigations, reply)
        return reply

    async def _check_delivery(self, navigations: int, reply: str) -> None:
        if self.javascript:
            # fetch + swap: no page load, focus back in the box, the reply announced
            assert await self.page.evaluate("window.__marker") == "still the first page"
            assert self.navigations == navigations, "a message reloaded the page"
            await expect(self.message_box).to_be_focused()
            # announced in the same task as the swap, so already there
            assert reply in squash(await self.page.locator("#announcer").text_content())
        else:
            # post, 303, get: a fresh page, scrolled to the newest message
            assert self.navigations > navigations, "the form post did not load a page"
            assert self.page.url.endswith("#latest"), self.page.url

    async def verify(self, number: str) -> str:
        """Check ``number`` with the code texted to it; the newest reply once linked."""
        box = self.verification
        await expect(box).to_be_visible()
        await box.get_by_label(self._("Your mobile number"), exact=True).fill(number)
        await box.get_by_role("button", name=self._("Text me a code"), exact=True).click()
        code_field = self.page.get_by_label(self._("The code we texted you"), exact=True)
        await expect(code_field).to_be_visible()
        sent = self._(CODE_SENT)
        await expect(self.page.get_by_role("status")).to_have_text(sent)
        if self.javascript:
            await expect(self.page.locator("#announcer")).to_contain_text(sent)
            await expect(code_field).to_be_focused()  # the next thing to type is the code
        await self.checkpoint("code-sent")
        await settle(self.app)
        texts = self.fake_twilio.inbox[international(number)]
        found = CODE.search(texts[-1])
        assert found is not None, texts
        await code_field.fill(found.group(1))
        check = self.page.get_by_role("button", name=self._("Check the code"), exact=True)
        return await self._send(check.click())

    async def checkpoint(self, step: str) -> None:
        """A numbered screenshot of this step, then axe-core on it."""
        self.steps += 1
        await screenshot(self.page, f"{self.name}_{self.steps:02d}_{step}")
        await assert_axe_clean(self.page)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def tools() -> BrowserTools:
    return require_browser_tools()


@pytest.fixture
async def browser(tools: BrowserTools) -> AsyncIterator[Browser]:
    """One Chromium per test: Playwright's objects belong to the test's own event loop."""
    async with launch_browser(tools) as launched:
        yield launched


def study_url(web_client: AppClient) -> str:
    return str(web_client.make_url(f"/s/{STUDY}"))


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
async def test_whole_journey(
    browser: Browser,
    web_client: AppClient,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    javascript: bool,
    language: str,
) -> None:
    """Read, ask, answer, wait, confirm and withdraw in one browser page."""
    app = web_client.app
    study = the_study(app)
    text = study.text(language)
    number = "07400 900801"
    async with new_page(browser, javascript=javascript, locale=language) as page:
        patient = WebPatient(
            page, app, fake_twilio, language, javascript, shot_name("journey", language, javascript)
        )
        _ = patient._

        # 1. The study page, in the browser's language and direction.
        await patient.open(study_url(web_client))
        direction = "rtl" if language == "ur" else "ltr"
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await expect(page.locator("html")).to_have_attribute("dir", direction)
        assert await page.evaluate("getComputedStyle(document.body).direction") == direction
        await expect(page.get_by_role("heading", level=1)).to_have_text(text.title)
        await patient.checkpoint("first-load")

        # 2. A topic, then its "Tell me more".
        topic = text.topics[0]
        section = page.locator("details.topic").filter(
            has=page.locator("summary", has_text=topic.title)
        )
        await section.locator("summary", has_text=topic.title).click()
        await expect(section).to_have_attribute("open", "")
        await expect(section.get_by_text(squash(topic.summary))).to_be_visible()
        await patient.checkpoint("topic")
        more = section.locator("details.more")
        await more.locator("summary", has_text=_("Tell me more")).click()
        await expect(more).to_have_attribute("open", "")
        await expect(more.locator(".detail")).to_be_visible()
        assert squash(await more.locator(".detail").text_content()) == squash(topic.detail)
        await patient.checkpoint("tell-me-more")

        # 3. MORE as a quick reply: the list of topics.
        reply = await patient.tap(Command.MORE)
        for index, each in enumerate(text.topics, start=1):
            assert f"{index}. {each.title}" in reply
        if javascript:  # the swapped-in page keeps open what the person opened
            await expect(section).to_have_attribute("open", "")
            await expect(more).to_have_attribute("open", "")
        await patient.checkpoint("topics")

        # 4. YES typed in the box: first the number must be checked.
        reply = await patient.say(patient.word(Command.YES))
        assert patient.said(VERIFY_FIRST) in reply
        await expect(patient.verification).to_be_visible()
        assert await participants(app) == []
        await patient.checkpoint("verification")

        # 5. The code texted to the number links the page; the waiting YES is replayed.
        reply = await patient.verify(number)
        assert patient.said(NUMBER_CHECKED) in (await patient.messages())[-2]
        titles = [text.purposes[purpose].title for purpose in PURPOSES]
        assert patient.said(QUESTION, number=1, total=5, title=titles[0]) in reply
        await expect(patient.verification).to_have_count(0)
        (participant,) = await participants(app)
        assert participant.joined_by == "web"
        assert participant.language == language
        await patient.checkpoint("question-1")

        # 6. Five questions, answered with quick replies.
        for asked, answer in enumerate(ANSWERS, start=1):
            reply = await patient.tap(answer)
            if asked < len(ANSWERS):
                following = patient.said(QUESTION, number=asked + 1, total=5, title=titles[asked])
                assert following in reply
            await patient.checkpoint(f"answered-{asked}-{answer.value}")
        assert patient.said(ANSWERS_WAIT) in reply
        research = await ResearchSystem.register(web_client)
        consent = await research.consent(participant.reference)
        assert consent["records-research"] == "pending", consent

        # 7. CONFIRM during the time to think: not yet.
        reply = await patient.tap(Command.CONFIRM)
        assert patient.said(CONFIRM_TOO_EARLY) in reply
        assert (await research.consent(participant.reference))["records-research"] == "pending"
        await patient.checkpoint("confirm-too-soon")

        # 8. The time to think passes; the reminder goes by SMS.
        clock.advance(study.cooling_off.period + timedelta(minutes=1))
        await settle(app)
        reminder = fake_twilio.inbox[international(number)][-1]
        assert patient.said(REMINDER) in squash(reminder)

        # 9. CONFIRM on the page: the yeses count.
        reply = await patient.tap(Command.CONFIRM)
        assert (
            squash(translator(language).ngettext(*CONFIRMED, ANSWERS.count(Command.YES))) in reply
        )
        consent = await research.consent(participant.reference)
        assert consent["records-research"] == "active", consent
        await patient.checkpoint("confirmed")

        # 10. WITHDRAW.
        reply = await patient.tap(Command.WITHDRAW)
        assert patient.said(WITHDRAWN) in reply
        consent = await research.consent(participant.reference)
        assert consent["records-research"] == "withdrawn", consent
        await patient.checkpoint("withdrawn")
        channels = {event["channel"] for event in await research.history(participant.reference)}
        assert channels == {"web"}


ZOOMS: dict[str, dict[str, Any]] = {
    "320px": {"viewport": (320, 640)},
    # 200% zoom of a 1280x800 window: 640x400 CSS pixels, each drawn as 2x2 device pixels.
    "zoom-200": {"viewport": (640, 400), "device_scale_factor": 2},
}


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.parametrize("screen", list(ZOOMS))
async def test_small_screen_and_zoom(
    browser: Browser,
    web_client: AppClient,
    fake_twilio: FakeTwilio,
    screen: str,
    language: str,
) -> None:
    """One column, no sideways scrolling, every quick reply on screen, at 320 px and 200%."""
    options = ZOOMS[screen]
    async with new_page(browser, javascript=True, locale=language, **options) as page:
        patient = WebPatient(
            page, web_client.app, fake_twilio, language, True, f"small_{screen}_{language}"
        )
        await patient.open(study_url(web_client))
        # Open every topic and every "Tell me more": the longest the page gets.
        for summary in await page.locator("details.topic > summary").all():
            await summary.click()
        for summary in await page.locator("details.more > summary").all():
            await summary.click()
        await assert_no_horizontal_scroll(page)
        await assert_inside_viewport(page, patient.quick_replies.get_by_role("button"))
        await patient.checkpoint("topics-open")

        await patient.tap(Command.MORE)
        await patient.say(patient.word(Command.YES))
        await assert_no_horizontal_scroll(page)
        await assert_inside_viewport(page, patient.verification.get_by_role("button"))
        await patient.checkpoint("verification")

        await patient.verify("07400 900802")
        await assert_no_horizontal_scroll(page)
        buttons = patient.quick_replies.get_by_role("button")
        await expect(buttons).to_have_count(3)  # YES, NO, MORE
        await assert_inside_viewport(page, buttons)
        await assert_inside_viewport(page, page.get_by_role("button", name=patient._("Send")))
        await patient.checkpoint("question")


FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (el.className && typeof el.className === "string" ? "." + el.className : ""),
    text: (el.textContent || "").trim().slice(0, 40),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
    describe: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor} / ${style.boxShadow}`,
  };
}"""


@pytest.mark.parametrize("language", ["en", "ur"])
async def test_keyboard_focus_is_visible(
    browser: Browser, web_client: AppClient, language: str
) -> None:
    """Tab from the top: the skip link shows, and every stop up to the first quick reply
    has a visible focus ring."""
    async with new_page(browser, javascript=True, locale=language) as page:
        await page.goto(study_url(web_client))
        _ = translator(language).gettext
        skip = page.get_by_role("link", name=_("Skip to main content"))
        await expect(skip).not_to_be_in_viewport()

        await page.keyboard.press("Tab")
        await expect(skip).to_be_focused()
        await expect(skip).to_be_in_viewport()
        await assert_inside_viewport(page, skip)
        await screenshot(page, f"keyboard_{language}_01_skip-link")

        first_reply = page.get_by_role("group", name=_("Quick replies")).get_by_role("button").first
        stops = []
        for _tab in range(40):
            style = await page.evaluate(FOCUS_STYLE)
            stops.append(style)
            assert style["outline"] or style["shadow"], f"no visible focus indicator: {style}"
            if await first_reply.evaluate("(el) => el === document.activeElement"):
                break
            await page.keyboard.press("Tab")
        else:
            pytest.fail(f"Tab never reached the first quick reply: {[s['element'] for s in stops]}")
        await expect(first_reply).to_be_focused()
        assert await first_reply.evaluate("(el) => el.matches(':focus-visible')")
        await screenshot(page, f"keyboard_{language}_02_first-quick-reply")
        await assert_axe_clean(page)


async def test_read_aloud_appears_only_with_a_voice(
    browser: Browser, web_client: AppClient, fake_twilio: FakeTwilio
) -> None:
    """ "Read aloud" shows only where the browser has a voice for the page's language."""
    language = "ur"
    read_aloud = translator(language).gettext("Read aloud")

    async def read_on(page: Page, name: str) -> None:
        patient = WebPatient(page, web_client.app, fake_twilio, language, True, name)
        await patient.open(study_url(web_client))
        await patient.tap(Command.MORE)

    # Headless Chromium here: whatever voices it has (normally none).
    async with new_page(browser, javascript=True, locale=language) as page:
        await read_on(page, "read-aloud_ur_real-voices")
        voices = await page.evaluate("speechSynthesis.getVoices().map((v) => v.lang)")
        has_urdu = any(lang.lower().startswith("ur") for lang in voices)
        speak = page.locator(".speak")
        await expect(speak).not_to_have_count(0)
        for button in await speak.all():
            if has_urdu:
                await expect(button).to_be_visible()
            else:
                await expect(button).to_be_hidden()
        await screenshot(page, "read-aloud_ur_01_real-voices")

    # A voice, but only for English: still nothing on an Urdu page.
    async with new_page(browser, javascript=True, locale=language) as page:
        await page.add_init_script(speech_stub(("Daniel", "en-GB")))
        await read_on(page, "read-aloud_ur_english-voice")
        for button in await page.locator(".speak").all():
            await expect(button).to_be_hidden()

    # An Urdu voice: the buttons show, and one reads its message in Urdu.
    async with new_page(browser, javascript=True, locale=language) as page:
        await page.add_init_script(speech_stub(("Daniel", "en-GB"), ("Asad", "ur-PK")))
        await read_on(page, "read-aloud_ur_urdu-voice")
        buttons = page.get_by_role("button", name=read_aloud, exact=True)
        await expect(buttons).to_have_count(await page.locator(".message.out").count())
        for button in await buttons.all():
            await expect(button).to_be_visible()
            # Each button is described by its own message, so a screen reader can tell them apart.
            described = await button.get_attribute("aria-describedby")
            assert described is not None
            await expect(page.locator(f"#{described}")).to_have_class("body")
        latest = page.locator("#latest")
        await latest.get_by_role("button", name=read_aloud).click()
        spoken = await page.evaluate("window.__spoken")
        body = await latest.locator(".body").text_content()
        assert spoken == [{"text": body, "lang": "ur", "voice": "ur-PK"}]
        await screenshot(page, "read-aloud_ur_02_urdu-voice")
        await assert_axe_clean(page)

        await page.reload()  # also shown on a fresh load, not only after a swap
        await expect(page.get_by_role("button", name=read_aloud, exact=True)).to_have_count(
            await page.locator(".message.out").count()
        )
        await expect(page.locator(".speak").first).to_be_visible()


async def test_personal_link_in_urdu(
    browser: Browser, web_client: AppClient, fake_twilio: FakeTwilio
) -> None:
    """The link from an Urdu invitation opens an Urdu, right-to-left page that is already
    linked: YES goes straight to the first question (even in an English-speaking browser)."""
    language = "ur"
    number = "+447400900803"
    research = await ResearchSystem.register(web_client)
    invited = await research.invite(number, "W-UR-1", language)
    assert invited["link_sent"] is True
    await settle(web_client.app)
    link = link_in(fake_twilio.inbox[number][-1])  # only the invitation SMS carries it
    assert link.startswith(str(web_client.make_url("/i/")))

    async with new_page(browser, javascript=True, locale="en-GB") as page:
        patient = WebPatient(
            page, web_client.app, fake_twilio, language, True, "personal-link_ur_js-on"
        )
        await patient.open(link)
        assert page.url == study_url(web_client)  # redirected; the token is not kept
        await expect(page.locator("html")).to_have_attribute("lang", "ur")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        await expect(patient.verification).to_have_count(0)
        await patient.checkpoint("opened")

        reply = await patient.say(patient.word(Command.YES))
        study = the_study(web_client.app)
        title = study.text(language).purposes[PURPOSES[0]].title
        assert patient.said(QUESTION, number=1, total=5, title=title) in reply
        await expect(patient.verification).to_have_count(0)
        await expect(page.get_by_label(patient._("Your mobile number"))).to_have_count(0)
        await patient.checkpoint("first-question")

        await patient.tap(Command.YES)
        consent = await research.consent("W-UR-1")
        assert consent["records-research"] == "pending", consent
        assert len(await participants(web_client.app)) == 1


# Where each character of ``phone`` is drawn, left to right on the screen, or null when no
# text node holds the number whole.
CHARACTER_POSITIONS = """(element, phone) => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.textContent.indexOf(phone);
    if (at < 0) { continue; }
    const lefts = [];
    for (let i = 0; i < phone.length; i += 1) {
      if (phone[i] === " ") { continue; }
      const range = document.createRange();
      range.setStart(node, at + i);
      range.setEnd(node, at + i + 1);
      lefts.push(Math.round(range.getBoundingClientRect().left));
    }
    return lefts;
  }
  return null;
}"""


async def test_phone_number_reads_left_to_right_in_urdu(
    browser: Browser, web_client: AppClient, fake_twilio: FakeTwilio
) -> None:
    """A phone number inside Urdu text is drawn left to right, '+' first.

    Without Unicode isolates (or ``<bdi>``) around it, the bidi algorithm lays
    "+44 800 000 0000" out as "0000 000 800 44+" in a right-to-left paragraph.
    """
    phone = the_study(web_client.app).contact.phone
    async with new_page(browser, javascript=False, locale="ur") as page:
        patient = WebPatient(page, web_client.app, fake_twilio, "ur", False, "phone-number_ur")
        await patient.open(study_url(web_client))
        await patient.tap(Command.HELP)  # "{title}. Questions? Call {phone} or email {email}. ..."
        await screenshot(page, "phone-number_ur_help")
        for place in (page.locator("footer p"), page.locator("#latest .body")):
            lefts = await place.evaluate(CHARACTER_POSITIONS, phone)
            assert lefts is not None, f"{phone!r} is not in {await place.text_content()!r}"
            assert lefts == sorted(lefts), f"{phone!r} is drawn out of order: x = {lefts}"
