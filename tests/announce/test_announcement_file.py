"""Reading and checking ``update.yaml``: every problem named by its field, nothing guessed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.content.loader import load_catalogue
from consentbot.content.model import Study
from consentbot.conversation.announcement_messages import announcement
from consentbot.conversation.lexicon import Lexicon
from consentbot.i18n.catalogs import Catalogs
from consentbot.services.announcement_file import (
    AnnouncementFile,
    FileProblem,
    check_for_study,
    parse_announcement,
)
from tests.announce.seed import TEXTS, update_file
from tests.conftest import ROOT
from tests.support.journey import STUDY

CATALOGUE = load_catalogue(ROOT / "content")
LEXICON = Lexicon(Catalogs.load(ROOT / "locales", None, "GB"), CATALOGUE)


def sample() -> Study:
    study = CATALOGUE.get(STUDY)
    assert study is not None
    return study


def render(language: str, text: str) -> str:
    study = sample()
    say = LEXICON.say(language, study.timezone)
    return announcement(say, say.shown(study.text(language)), text)


def check(texts: dict[str, str], max_segments: int = 6) -> list[str]:
    _, problems = check_for_study(AnnouncementFile("news", texts), sample(), render, max_segments)
    return [str(problem) for problem in problems]


def test_a_good_file_is_read_with_its_texts_trimmed() -> None:
    parsed = parse_announcement(update_file().encode())
    assert parsed.problems == ()
    assert parsed.announcement == AnnouncementFile("results-2027-01", TEXTS)
    block = parse_announcement(b"id: a-1\ntexts:\n  en: |\n    Line one.\n    Line two.\n")
    assert block.announcement == AnnouncementFile("a-1", {"en": "Line one.\nLine two."})


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (b"\xff\xfe", ["is not UTF-8 text"]),
        (
            b"id: [unclosed\n",
            ["is not valid YAML (line 2, column 1): expected ',' or ']', but got '<stream end>'"],
        ),
        (b"- a list\n", ["must be a YAML mapping with the fields id and texts"]),
        (b"texts: {en: hi}\n", ["id: is required: a name such as results-2027-01"]),
        (
            b"id: Results 2027\ntexts: {en: hi}\n",
            ["id: 'Results 2027' must be lower-case letters, digits and hyphens (at most 100), "
             "such as results-2027-01"],
        ),
        (b"id: a\n", ["texts: is required: one text per language, e.g. en: ..."]),
        (b"id: a\ntexts: {en: '  ', cy: 3}\n", ["texts.en: is empty", "texts.cy: must be text"]),
        (b"id: a\ntexts: {en: hi}\nsubject: x\n", ["subject: is not a known field (expected id and texts)"]),
    ],
)
def test_each_problem_names_its_field(raw: bytes, problems: list[str]) -> None:
    parsed = parse_announcement(raw)
    assert parsed.announcement is None
    assert [str(problem) for problem in parsed.problems] == problems


def test_every_language_of_the_study_and_no_other() -> None:
    texts = {"en": TEXTS["en"], "pl": TEXTS["pl"], "fr": "Les premiers résultats."}
    assert check(texts) == [
        "texts.cy: is missing: every language of the study needs its text",
        "texts.ur: is missing: every language of the study needs its text",
        "texts.fr: is not a language of the study (en, cy, pl, ur)",
    ]


def test_only_keyword_placeholders_and_they_are_filled_in_each_language() -> None:
    assert check({**TEXTS, "cy": "Helo {name}, atebwch {choices}."}) == [
        "texts.cy: unknown placeholder {name}: only keywords can be filled in ("
        "{call}, {change}, {choices}, {confirm}, {help}, {language}, {later}, {more}, {no}, "
        "{start}, {stop}, {who}, {withdraw}, {yes})"
    ]
    assert "\nAtebwch DEWIS.\n" in render("cy", "Atebwch {choices}.")
    assert "Reply CHOICES." in render("en", "Reply {choices}.")


def test_a_text_longer_than_one_sms_of_max_segments_is_refused_with_its_cost() -> None:
    costs, problems = check_for_study(AnnouncementFile("news", TEXTS), sample(), render, 6)
    assert problems == []
    assert (costs["en"].encoding, costs["en"].segments) == ("gsm7", 1)
    assert (costs["ur"].encoding, costs["ur"].segments) == ("ucs2", 2)
    long = {**TEXTS, "ur": "نتائج " * 80}
    assert check(long, max_segments=6) == [
        "texts.ur: is 9 segments in UCS-2 as sent (with the study's name and the STOP line): "
        "at most 6 (CONSENTBOT_SMS_MAX_SEGMENTS). Shorten it"
    ]
    english = [p for p in check({**TEXTS, "en": "x" * 140}, max_segments=1) if "texts.en" in p]
    assert english == [
        "texts.en: is 2 segments in GSM-7 as sent (with the study's name and the STOP line): "
        "at most 1 (CONSENTBOT_SMS_MAX_SEGMENTS). Shorten it"
    ]


def test_the_digest_changes_with_any_text_and_not_with_their_order() -> None:
    first = AnnouncementFile("a", {"en": "x", "cy": "y"})
    assert first.digest == AnnouncementFile("a", {"cy": "y", "en": "x"}).digest
    assert first.digest != AnnouncementFile("a", {"en": "x", "cy": "z"}).digest


@given(st.binary(max_size=300))
def test_any_bytes_give_an_announcement_or_problems_never_an_exception(raw: bytes) -> None:
    parsed = parse_announcement(raw)
    assert (parsed.announcement is None) == bool(parsed.problems)
    assert all(isinstance(problem, FileProblem) for problem in parsed.problems)


# NEL and the Unicode line and paragraph separators are line breaks to YAML: PyYAML writes
# them raw with allow_unicode, and a reader folds them, as it would in a file a team wrote.
TEXT = st.text(st.characters(exclude_characters="\x85\u2028\u2029"), min_size=1).filter(str.strip)


@given(st.dictionaries(st.sampled_from(["en", "cy", "pl", "ur"]), TEXT, min_size=1))
def test_texts_written_as_yaml_are_read_back(texts: dict[str, str]) -> None:
    import yaml

    raw = yaml.safe_dump({"id": "news-1", "texts": texts}, allow_unicode=True).encode()
    parsed = parse_announcement(raw)
    assert parsed.announcement == AnnouncementFile("news-1", {k: v.strip() for k, v in texts.items()})
