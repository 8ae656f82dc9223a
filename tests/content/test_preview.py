"""``consentbot content preview``, run as a real process on the shipped study.

Expected texts are read from the loaded study, never written here: the content changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from consentbot import cli, commands
from consentbot.content.loader import load_catalogue
from consentbot.content.model import Study, StudyText
from consentbot.content.sms_cost import ENCODING_NAMES
from consentbot.conversation.shown import with_keywords
from consentbot.conversation.vocabulary import Command
from consentbot.domain.sms_segments import encoding_for, segment_count
from consentbot.settings import Settings
from tests.browser.harness import (
    BrowserTools,
    find_chromium,
    launch_browser,
    new_page,
    require_playwright,
    screenshot,
)
from tests.support.cli import consentbot
from tests.support.journey import ROOT, STUDY, words

if TYPE_CHECKING:
    from playwright.async_api import Browser

HEADER = re.compile(r"^< SMS (\d+), [^,]+, (GSM-7|UCS-2), (\d+) segments?$")
TOTAL = re.compile(r"^Total: (\d+) messages, (\d+) segments \(")


@dataclass(frozen=True)
class Printed:
    """One SMS as the transcript shows it."""

    encoding: str
    segments: int
    text: str


@dataclass(frozen=True)
class Transcript:
    """The transcript read back: what the person sent, each SMS, the totals line."""

    said: list[str]
    messages: list[Printed]
    total_messages: int
    total_segments: int

    @property
    def flowing(self) -> str:
        """Every SMS text in order, whitespace collapsed (splitting drops it at breaks)."""
        return squash(" ".join(message.text for message in self.messages))


def squash(text: str) -> str:
    return " ".join(text.split())


def as_read(study: Study, language: str) -> StudyText:
    """The study's text as a person reads it: each keyword placeholder in their language."""
    vocabulary = words(language)
    return with_keywords(study.text(language), {c.value: vocabulary.word(c) for c in Command})


def read_transcript(stdout: str) -> Transcript:
    said: list[str] = []
    messages: list[Printed] = []
    totals: tuple[int, int] | None = None
    header: re.Match[str] | None = None
    body: list[str] = []

    def close() -> None:
        if header is not None:
            messages.append(Printed(header.group(2), int(header.group(3)), "\n".join(body)))

    for line in stdout.splitlines():
        if line.startswith("  |"):
            assert header is not None, f"text outside a message: {line!r}"
            body.append(line[4:])
            continue
        close()
        header, body = None, []
        if line.startswith("> "):
            said.append(line[2:])
        elif line.startswith("< "):
            header = HEADER.match(line)
            assert header is not None, f"unreadable message header: {line!r}"
            assert int(header.group(1)) == len(messages) + 1
        elif found := TOTAL.match(line):
            totals = (int(found.group(1)), int(found.group(2)))
    close()
    assert totals is not None, "no totals line"
    return Transcript(said, messages, *totals)


@pytest.fixture(scope="module")
def study() -> Study:
    loaded = load_catalogue(ROOT / "content").get(STUDY)
    assert loaded is not None
    return loaded


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Content and catalogs only: the command must need nothing else."""
    return Settings(
        data_dir=tmp_path / "var", content_dir=ROOT / "content", locales_dir=ROOT / "locales"
    )


def preview(
    settings: Settings, capsys: pytest.CaptureFixture[str], language: str, html: Path | None = None
) -> Transcript:
    """Run the command's function in this process (the CLI wiring has its own test)."""
    assert commands.content_preview(settings, STUDY, language, html) == 0
    return read_transcript(capsys.readouterr().out)


def in_order(haystack: str, needles: list[str]) -> None:
    """Each needle occurs in ``haystack`` after the one before it."""
    at = 0
    for needle in needles:
        found = haystack.find(squash(needle), at)
        assert found >= 0, f"not found (in order) after position {at}: {needle[:80]!r}"
        at = found + len(squash(needle))


@pytest.mark.parametrize("language", ["en", "cy", "pl", "ur"])
def test_the_transcript_is_the_whole_conversation_in_order_with_real_costs(
    settings: Settings, study: Study, capsys: pytest.CaptureFixture[str], language: str
) -> None:
    transcript = preview(settings, capsys, language)

    text = as_read(study, language)
    vocabulary = words(language)
    more, yes = vocabulary.word(Command.MORE), vocabulary.word(Command.YES)
    assert transcript.said == (
        [more] * (1 + 2 * len(text.topics))
        + [yes]
        + [more, yes] * len(study.purpose_ids)
        + [vocabulary.word(Command.CONFIRM)]
    )
    purposes = [text.purposes[purpose] for purpose in study.purpose_ids]
    in_order(
        transcript.flowing,
        [text.title, text.summary]
        + [topic.title for topic in text.topics]
        + [part for topic in text.topics for part in (topic.summary, topic.detail)]
        + [part for purpose in purposes for part in (purpose.question, purpose.explanation)]
        + [purpose.title for purpose in purposes],
    )

    for message in transcript.messages:
        assert message.encoding == ENCODING_NAMES[encoding_for(message.text)]
        assert message.segments == segment_count(message.text)
        assert message.segments <= settings.max_segments
    if language == "ur":
        assert {message.encoding for message in transcript.messages} == {"UCS-2"}
    assert transcript.total_messages == len(transcript.messages)
    assert transcript.total_segments == sum(m.segments for m in transcript.messages)
    assert not settings.data_dir.exists(), "no database, no key, nothing stored"


def test_with_a_public_url_the_invitation_carries_a_link_as_long_as_a_real_one(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    without = preview(settings, capsys, "en").messages[0]
    invitation = preview(
        settings.with_(public_url="https://consent.example.org"), capsys, "en"
    ).messages[0]
    link = re.search(r"https://consent\.example\.org/i/(\S+)", invitation.text)
    assert link is not None
    assert len(link.group(1)) == 32  # secrets.token_urlsafe(24), as LinkRepository makes them
    assert "/i/" not in without.text
    assert invitation.segments == segment_count(invitation.text)


def test_a_study_or_language_that_does_not_exist_is_refused_and_nothing_written(
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    assert commands.content_preview(settings, "no-such-study", "en", page) == 2
    unknown = capsys.readouterr()
    assert "there is no study 'no-such-study'" in unknown.err
    assert STUDY in unknown.err, "names the studies there are"
    assert commands.content_preview(settings, STUDY, "de", page) == 2
    not_offered = capsys.readouterr()
    assert "not written in 'de'" in not_offered.err
    assert "en, cy, pl, ur" in not_offered.err, "names the study's languages"
    assert commands.content_preview(settings, STUDY, "en", tmp_path / "no" / "page.html") == 1
    nowhere = capsys.readouterr()
    assert "--html" in nowhere.err
    for result in (unknown, not_offered, nowhere):
        assert result.out == ""
    assert list(tmp_path.iterdir()) == [], "nothing written"
    with pytest.raises(SystemExit) as usage:
        cli.main(["content", "preview", "--study", STUDY])
    assert usage.value.code == 2
    assert "--lang" in capsys.readouterr().err


def test_the_command_prints_the_transcript_and_writes_the_page(
    settings: Settings, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    result = consentbot(
        settings, "content", "preview", "--study", STUDY, "--lang", "cy", "--html", str(page)
    )
    assert result.returncode == 0, result.stderr
    transcript = read_transcript(result.stdout)
    assert transcript.total_messages == len(transcript.messages) > 0
    assert f"web page written to {page}" in result.stderr
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert not settings.data_dir.exists(), "no database, no key, nothing stored"


async def test_the_web_page_opens_in_chromium_and_shows_the_study_and_its_questions(
    settings: Settings, study: Study, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    require_playwright()
    chromium = find_chromium()
    # axe is not needed here: the same template is checked with axe in test_web_journey.
    async with launch_browser(BrowserTools(chromium, Path())) as browser:
        for language in ("en", "ur"):
            page_file = tmp_path / f"preview-{language}.html"
            preview(settings, capsys, language, page_file)
            html = page_file.read_text(encoding="utf-8")
            assert "<script" not in html
            assert '<link rel="stylesheet"' not in html
            await check_page(browser, page_file, study, language)


async def check_page(browser: Browser, page_file: Path, study: Study, language: str) -> None:
    text = as_read(study, language)
    requested: list[str] = []
    async with new_page(browser, javascript=False, locale=language, viewport=(390, 844)) as page:
        page.on("request", lambda request: requested.append(request.url))
        await page.goto(page_file.as_uri())
        await screenshot(page, f"content-preview-{language}")
        assert await page.get_attribute("html", "lang") == language
        assert await page.get_attribute("html", "dir") == ("rtl" if language == "ur" else "ltr")
        assert squash(await page.inner_text("h1")) == squash(text.title)
        assert squash(await page.inner_text("p.summary")) == squash(text.summary)
        topics = page.locator("details.topic")
        assert await topics.count() == len(text.topics)
        for index, topic in enumerate(text.topics):
            shown = squash(await topics.nth(index).text_content() or "")
            assert squash(topic.title) in shown
            assert squash(topic.summary) in shown
            assert squash(topic.detail) in shown
        conversation = squash(await page.inner_text("ol.transcript"))
        in_order(conversation, [text.purposes[p].question for p in study.purpose_ids])
        # The stylesheet is inline and applies: the app's brand colour on the buttons.
        background = await page.eval_on_selector(
            "form.quick button", "b => getComputedStyle(b).backgroundColor"
        )
        assert background == "rgb(29, 79, 145)"
    assert all(url == page_file.as_uri() for url in requested), (
        f"the file needs nothing else: {requested}"
    )
