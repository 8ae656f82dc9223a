"""Catalogs: complete for what the code says, placeholders intact, keywords unambiguous."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from consentbot.content.loader import load_catalogue
from consentbot.conversation.intents import parse
from consentbot.conversation.lexicon import Lexicon
from consentbot.conversation.normalise import normalise
from consentbot.conversation.vocabulary import ENGLISH_WORDS, Command, translated_words
from consentbot.i18n.catalogs import Catalogs, po_path
from tests.support.journey import ROOT, STUDY

LANGUAGES = ("cy", "pl", "ur")
PLACEHOLDER = re.compile(r"\{(\w*)\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What `pybabel extract` finds in the source today (babel.cfg is the mapping)."""
    target = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "--add-comments=Translators:", "-o", str(target), "."],
        cwd=ROOT, check=True, capture_output=True, timeout=120,
    )
    with target.open("rb") as handle:
        return read_po(handle)


def catalog(language: str) -> Catalog:
    with po_path(ROOT / "locales", language).open("rb") as handle:
        return read_po(handle, locale=language)


def ids(cat: Catalog) -> set[object]:
    return {message.id for message in cat if message.id}


def test_committed_template_is_up_to_date(extracted: Catalog) -> None:
    with (ROOT / "locales" / "messages.pot").open("rb") as handle:
        committed = read_po(handle)
    assert ids(committed) == ids(extracted), "run pybabel extract (see docs/translating.md)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(extracted: Catalog, language: str) -> None:
    cat = catalog(language)
    missing = []
    for message in extracted:
        if not message.id:
            continue
        found = cat.get(message.id, context=message.context)
        strings = found.string if found else None
        values = strings if isinstance(strings, tuple) else (strings,)
        if found is None or found.fuzzy or not all(values):
            missing.append(message.id)
    assert missing == [], f"{language} lacks translations for {missing}"
    if isinstance(cat.num_plurals, int):
        plural = next(m for m in cat if isinstance(m.id, tuple))
        assert isinstance(plural.string, tuple)
        assert len(plural.string) == cat.num_plurals


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match(language: str) -> None:
    for message in catalog(language):
        if not message.id:
            continue
        sources = tuple(message.id) if isinstance(message.id, tuple | list) else (str(message.id),)
        allowed = set().union(*(PLACEHOLDER.findall(s) for s in sources))
        targets = (
            tuple(message.string)
            if isinstance(message.string, tuple | list)
            else (str(message.string or ""),)
        )
        for target in targets:
            used = set(PLACEHOLDER.findall(target))
            assert used <= allowed, f"{language}: {message.id!r} uses unknown {used - allowed}"
            if not isinstance(message.id, tuple):
                assert used == allowed, f"{language}: {message.id!r} drops {allowed - used}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_keywords_are_unambiguous(language: str) -> None:
    words = translated_words(Catalogs.load(ROOT / "locales", [language]).get(language))
    seen: dict[str, Command] = {normalise(w): c for c, ws in ENGLISH_WORDS.items() for w in ws}
    for command, synonyms in words.items():
        assert synonyms, f"{language}: no word for {command}"
        for word in synonyms:
            key = normalise(word)
            assert seen.get(key, command) is command, f"{language}: {word!r} means {seen[key]} and {command}"
            seen[key] = command


def test_keywords_are_unambiguous_across_languages() -> None:
    """A message is read in every language its sender uses at once (Lexicon.read), so no
    word may mean one thing in one language and another thing in the next."""
    catalogs = Catalogs.load(ROOT / "locales", list(LANGUAGES))
    seen: dict[str, tuple[Command, str]] = {
        normalise(w): (c, "en") for c, ws in ENGLISH_WORDS.items() for w in ws
    }
    for language in LANGUAGES:
        for command, synonyms in translated_words(catalogs.get(language)).items():
            for word in synonyms:
                key = normalise(word)
                earlier, where = seen.get(key, (command, language))
                assert earlier is command, f"{word!r} means {earlier} in {where} and {command} in {language}"
                seen[key] = (command, language)


def test_urdu_offers_roman_urdu_for_every_command() -> None:
    """Urdu script is hard to type on many UK phones, so every command also has a word in
    Roman Urdu (Latin letters, not an English word)."""
    words = translated_words(Catalogs.load(ROOT / "locales", ["ur"]).get("ur"))
    english = {normalise(w) for ws in ENGLISH_WORDS.values() for w in ws}
    for command, synonyms in words.items():
        roman = [w for w in synonyms if w.isascii() and normalise(w) not in english]
        assert roman, f"ur: no Roman-Urdu word for {command}"


def test_a_bare_urdu_ji_is_no_keyword() -> None:
    """ "جی" on its own also means "pardon?"."""
    words = translated_words(Catalogs.load(ROOT / "locales", ["ur"]).get("ur"))
    every = {normalise(w) for ws in words.values() for w in ws}
    assert not {"جی", "ji", "jee"} & every


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_every_word_the_bot_shows_is_understood(language: str) -> None:
    studies = load_catalogue(ROOT / "content")
    lexicon = Lexicon(Catalogs.load(ROOT / "locales"), studies)
    study = studies.get(STUDY)
    assert study is not None
    vocabulary = lexicon.vocabulary(language)
    for command in Command:
        word = vocabulary.word(command)
        intent = parse(word, vocabulary, lexicon.study_keywords, lexicon.language_names(study))
        assert intent.command is command, f"{language}: {word!r} is not read as {command}"
        assert word not in lexicon.language_names(study)


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_are_formatted_in_the_language(language: str) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    translator = Catalogs.load(ROOT / "locales", [language]).get(language)
    english = Catalogs.load(ROOT / "locales", ["en"]).get("en")
    moment = datetime(2026, 12, 3, 14, tzinfo=UTC)
    zone = ZoneInfo("Europe/London")
    assert english.date_and_time(moment, zone) == "Thursday 3 December at 14:00"
    assert translator.date_and_time(moment, zone) != english.date_and_time(moment, zone)
    assert "3" in translator.date_and_time(moment, zone)


def test_times_are_rounded_up_so_a_promise_is_never_early() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    english = Catalogs.load(ROOT / "locales", ["en"]).get("en")
    zone = ZoneInfo("Europe/London")
    # CONFIRM really works from 08:28:50: saying "08:28" would invite a refusal at 08:28:20.
    assert english.date_and_time(datetime(2026, 12, 3, 8, 28, 50, tzinfo=UTC), zone).endswith("08:29")
    assert english.date_and_time(datetime(2026, 12, 3, 8, 28, 0, 1, tzinfo=UTC), zone).endswith("08:29")
    assert english.date_and_time(datetime(2026, 12, 3, 8, 28, tzinfo=UTC), zone).endswith("08:28")
    assert english.date_and_time(datetime(2026, 12, 3, 23, 59, 30, tzinfo=UTC), zone) == (
        "Friday 4 December at 00:00"
    )


def test_a_time_formatted_before_is_given_again_only_for_its_own_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    english = Catalogs.load(ROOT / "locales", ["en"]).get("en")
    london, new_york = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
    moment = datetime(2026, 12, 3, 14, 0, 10, tzinfo=UTC)
    assert english.date_and_time(moment, london) == "Thursday 3 December at 14:01"
    # The same minute again, in another zone and as another zone's clock shows it.
    assert english.date_and_time(moment, new_york) == "Thursday 3 December at 09:01"
    assert english.date_and_time(moment.astimezone(new_york), london).endswith("at 14:01")
    assert english.date_and_time(moment.replace(second=0), london).endswith("at 14:00")


def test_catalog_files_are_sources_only() -> None:
    assert not list((ROOT / "locales").rglob("*.mo")), ".mo files are compiled in memory at start"
    assert {p.parent.parent.name for p in (ROOT / "locales").rglob("messages.po")} == set(LANGUAGES)


def test_babel_mapping_covers_the_package() -> None:
    assert "src/consentbot/**.py" in Path(ROOT / "babel.cfg").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("language", "period", "expected"),
    [
        ("en", timedelta(days=1), "1 day"),
        ("en", timedelta(hours=36), "36 hours"),
        ("en", timedelta(days=14), "2 weeks"),
        ("pl", timedelta(days=1), "1 dzień"),
        ("pl", timedelta(days=2), "2 dni"),
        ("cy", timedelta(hours=12), "12 awr"),
        ("ur", timedelta(days=1), "1 دن"),
    ],
)
def test_durations_are_exact_and_in_the_language(language: str, period: timedelta, expected: str) -> None:
    assert Catalogs.load(ROOT / "locales", [language]).get(language).duration(period) == expected
