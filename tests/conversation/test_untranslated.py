"""A stale or missing translation: the person reads the default language, and is told why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from consentbot.content.loader import load_study
from consentbot.content.model import Study, StudyCatalogue
from consentbot.conversation.lexicon import Lexicon
from consentbot.i18n.catalogs import Catalogs
from tests.conversation.conftest import Conversation
from tests.support.journey import ROOT, STUDY

SAMPLE = ROOT / "content" / "studies" / STUDY
POLISH_NOTE = "Ta część nie jest jeszcze przetłumaczona"
WELSH_NOTE = "Dydy'r rhan hon ddim wedi'i chyfieithu eto"


def _edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def stale_polish(tmp_path: Path) -> Study:
    """Version 2 of the sample: English, Welsh and Urdu are updated; Polish is not."""
    folder = tmp_path / "studies" / STUDY
    shutil.copytree(SAMPLE, folder)
    _edit(folder / "study.yaml", version=2)
    for language in ("en", "cy", "ur"):
        _edit(folder / f"{language}.yaml", translated_from_version=2)
    return load_study(folder)


def _conversation(study: Study, language: str) -> Conversation:
    lexicon = Lexicon(Catalogs.load(ROOT / "locales"), StudyCatalogue({study.id: study}))
    return Conversation(study, lexicon, language=language)


def test_a_stale_translation_is_replaced_whole_by_the_default_language(stale_polish: Study) -> None:
    shown = stale_polish.text("pl")
    assert shown is stale_polish.texts["en"]
    assert stale_polish.text("cy") is stale_polish.texts["cy"]
    assert stale_polish.text("en") is stale_polish.texts["en"]


def test_the_person_reads_english_content_with_a_polish_note_and_polish_ui(
    stale_polish: Study,
) -> None:
    conversation = _conversation(stale_polish, "pl")
    english = stale_polish.texts["en"]

    invitation = conversation.invite()
    assert invitation.startswith(POLISH_NOTE)
    assert "(angielski)" in invitation  # the language it is in, named in Polish
    assert english.summary in invitation
    assert "Wyślij WIĘCEJ" in invitation  # the interface stays Polish, with Polish keywords

    topic = conversation.send("2")
    assert topic.startswith(POLISH_NOTE)
    assert english.topics[1].summary in topic

    detail = conversation.send("WIĘCEJ")
    assert detail.startswith(POLISH_NOTE)
    assert english.topics[1].detail in detail

    question = conversation.send("TAK")
    assert POLISH_NOTE in question
    assert english.purposes["records-research"].question in question
    assert "Odpowiedz TAK lub NIE" in question

    explanation = conversation.send("WIĘCEJ")
    assert explanation.startswith(POLISH_NOTE)
    assert english.purposes["records-research"].explanation in explanation


def test_keyword_placeholders_in_fallback_text_name_the_persons_own_word(
    stale_polish: Study,
) -> None:
    conversation = _conversation(stale_polish, "pl")
    choices = next(
        index
        for index, t in enumerate(stale_polish.texts["en"].topics, 1)
        if t.id == "your-choices"
    )
    reply = conversation.send(str(choices))
    assert "reply POTWIERDZAM" in reply  # English words, Polish keyword: both work for them
    assert "{confirm}" not in reply


def test_an_up_to_date_translation_gets_no_note(stale_polish: Study) -> None:
    conversation = _conversation(stale_polish, "cy")
    invitation = conversation.invite()
    assert WELSH_NOTE not in invitation
    assert stale_polish.texts["cy"].summary in invitation
    assert "(angielski)" not in _conversation(stale_polish, "en").invite()


def test_a_missing_changes_text_falls_back_for_that_field_only(tmp_path: Path) -> None:
    folder = tmp_path / "studies" / STUDY
    shutil.copytree(SAMPLE, folder)
    _edit(
        folder / "study.yaml",
        version=2,
        changes={"purposes": ["commercial-partner"], "reconsent": "notify"},
    )
    for language in ("en", "cy", "pl", "ur"):
        _edit(folder / f"{language}.yaml", translated_from_version=2)
    _edit(folder / "en.yaml", changes="Kestrel Imaging may now also see scans.")
    _edit(folder / "cy.yaml", changes="Gall Kestrel Imaging weld sganiau hefyd nawr.")
    study = load_study(folder)

    polish = study.text("pl")
    assert polish.language == "pl"
    assert polish.summary == study.texts["pl"].summary
    assert polish.changes == "Kestrel Imaging may now also see scans."
    assert polish.untranslated == frozenset({"changes"})
    assert study.text("cy").untranslated == frozenset()

    say = _conversation(study, "pl").lexicon.say("pl", study.timezone)
    assert say.untranslated_note(polish) is None  # the rest is in Polish
    note = say.untranslated_note(polish, "changes")
    assert note is not None
    assert note.startswith(POLISH_NOTE)
    welsh = _conversation(study, "cy").lexicon.say("cy", study.timezone)
    assert welsh.untranslated_note(study.text("cy"), "changes") is None
