"""Study content: the sample loads; malformed content names file, field and problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from consentbot.content.loader import load_catalogue, load_study
from consentbot.content.problems import ContentError, Severity
from tests.support.journey import ROOT, STUDY

SAMPLE = ROOT / "content" / "studies" / STUDY


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    target = tmp_path / "studies" / STUDY
    shutil.copytree(SAMPLE, target)
    return target


def edit(path: Path, change: dict[str, object] | None = None, remove: str | None = None) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(change or {})
    if remove:
        del data[remove]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems(folder: Path) -> list[str]:
    """Each problem as ``file: field: problem`` (its line is left out; see test_lines_are_named)."""
    with pytest.raises(ContentError) as caught:
        load_study(folder)
    return [str(problem.at_line(None)) for problem in caught.value.problems]


def test_lines_are_named(study_dir: Path) -> None:
    edit(study_dir / "study.yaml", {"cooling_off": "1 day"})
    with pytest.raises(ContentError) as caught:
        load_study(study_dir)
    (problem,) = caught.value.problems
    lines = (study_dir / "study.yaml").read_text(encoding="utf-8").splitlines()
    assert problem.line is not None
    assert lines[problem.line - 1].startswith("cooling_off:")
    assert str(problem).startswith(f"{study_dir / 'study.yaml'}:{problem.line}: cooling_off: ")


def test_sample_study_loads_in_four_languages() -> None:
    study = load_study(SAMPLE)
    assert study.languages == ("en", "cy", "pl", "ur")
    assert study.purpose_ids[0] == "records-research"
    assert study.is_required("records-research")
    assert {study.texts[code].status for code in ("cy", "pl", "ur")} == {"draft"}
    assert study.texts["en"].status == "reviewed"
    assert len({text.digest for text in study.texts.values()}) == 4
    # Only the unreviewed translations are worth a warning.
    assert [(w.file.name, w.field, w.severity) for w in study.warnings] == [
        (f"{code}.yaml", "status", Severity.WARNING) for code in ("cy", "pl", "ur")
    ]


def test_catalogue_finds_studies_by_keyword() -> None:
    catalogue = load_catalogue(ROOT / "content")
    assert catalogue.by_keyword("JOINTS") is catalogue.get(STUDY)


def test_malformed_yaml_names_file_and_line(study_dir: Path) -> None:
    (study_dir / "pl.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_study(study_dir)
    (found,) = caught.value.problems
    assert str(found).startswith(f"{study_dir / 'pl.yaml'}:2: is not valid YAML (column 1)")


def test_bad_study_fields_are_all_reported(study_dir: Path) -> None:
    edit(
        study_dir / "study.yaml",
        {"cooling_off": "1 day", "timezone": "Europe/Londres", "keyword": "YES", "colour": "red"},
    )
    found = "\n".join(problems(study_dir))
    assert "study.yaml: cooling_off: '1 day' is not an ISO 8601 duration" in found
    assert "study.yaml: timezone: 'Europe/Londres' is not an IANA time zone" in found
    assert "study.yaml: keyword: 'YES' is a word the conversation already uses" in found
    assert "study.yaml: colour: is not a known field" in found


def test_missing_translation_of_a_purpose(study_dir: Path) -> None:
    data = yaml.safe_load((study_dir / "cy.yaml").read_text(encoding="utf-8"))
    del data["purposes"]["updates"]
    data["topics"][1]["summary"] = ""
    (study_dir / "cy.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    found = problems(study_dir)
    assert f"{study_dir / 'cy.yaml'}: purposes.updates: is missing" in found[1] or any(
        p.startswith(f"{study_dir / 'cy.yaml'}: purposes.updates: is missing") for p in found
    )
    assert any(
        p == f"{study_dir / 'cy.yaml'}: topics[1].summary: must be a non-empty text" for p in found
    )


def test_placeholders_must_match_across_languages(study_dir: Path) -> None:
    en = yaml.safe_load((study_dir / "en.yaml").read_text(encoding="utf-8"))
    en["summary"] += " Call {phone}."
    (study_dir / "en.yaml").write_text(yaml.safe_dump(en, allow_unicode=True), encoding="utf-8")
    found = problems(study_dir)
    assert (
        f"{study_dir / 'pl.yaml'}: summary: placeholders [] must match en.yaml's ['phone']" in found
    )


def test_language_file_must_exist_and_match(study_dir: Path) -> None:
    (study_dir / "ur.yaml").unlink()
    edit(study_dir / "pl.yaml", {"language": "cy", "status": "final"})
    found = problems(study_dir)
    assert f"{study_dir / 'ur.yaml'}: is missing: study.yaml lists 'ur' in languages" in found
    assert (
        f"{study_dir / 'pl.yaml'}: language: must be 'pl' to match the file name, not 'cy'" in found
    )
    assert f"{study_dir / 'pl.yaml'}: status: must be one of draft, reviewed, not 'final'" in found


def test_short_cooling_off_is_a_warning_not_an_error(study_dir: Path) -> None:
    edit(study_dir / "study.yaml", {"cooling_off": "PT2H"})
    study = load_study(study_dir)
    (warning,) = [w for w in study.warnings if w.field == "cooling_off"]
    assert warning.severity is Severity.WARNING
    assert warning.field == "cooling_off"
    assert "under 24 hours" in warning.problem


def test_outdated_translation_is_a_warning(study_dir: Path) -> None:
    edit(study_dir / "study.yaml", {"version": 2})
    study = load_study(study_dir)
    assert any(
        str(warning).startswith(f"{study_dir / 'pl.yaml'}: translated_from_version: 1 is older")
        for warning in study.warnings
    )


def test_duplicate_keywords_across_studies(tmp_path: Path, study_dir: Path) -> None:
    twin = tmp_path / "studies" / "knee-study"
    shutil.copytree(study_dir, twin)
    edit(twin / "study.yaml", {"id": "knee-study"})
    with pytest.raises(
        ContentError, match="'JOINTS' is already used by study 'joint-health-records'"
    ):
        load_catalogue(tmp_path)


def test_folder_name_must_match_id(study_dir: Path) -> None:
    edit(study_dir / "study.yaml", {"id": "other-study"})
    assert any("id: 'other-study' must match the folder name" in p for p in problems(study_dir))


def test_covers_reading_and_changes_load(study_dir: Path) -> None:
    edit(
        study_dir / "study.yaml",
        {
            "version": 2,
            "reading": {"grade": 7, "sentence_words": 18},
            "changes": {"purposes": ["commercial-partner"], "reconsent": "required"},
        },
    )
    for code in ("en", "cy", "pl", "ur"):
        text = yaml.safe_load((study_dir / f"{code}.yaml").read_text(encoding="utf-8"))
        text["topics"][0]["covers"] = ["what-data", "why-you"]
        text["changes"] = "A new company may now see your records."
        (study_dir / f"{code}.yaml").write_text(yaml.safe_dump(text, allow_unicode=True), "utf-8")
    study = load_study(study_dir)
    assert study.reading.grade == 7.0
    assert study.reading.lix == 40.0
    assert study.reading.sentence_words == 18
    assert study.changes is not None
    assert study.changes.purposes == ("commercial-partner",)
    assert study.changes.reconsent.value == "required"
    assert {c.value for c in study.texts["en"].topics[0].covers} == {"what-data", "why-you"}
    assert study.texts["pl"].changes == "A new company may now see your records."


def test_bad_covers_reading_and_changes_are_named(study_dir: Path) -> None:
    edit(
        study_dir / "study.yaml",
        {
            "reading": {"grade": "easy", "speed": 3},
            "changes": {"purposes": ["selling"], "reconsent": "maybe"},
        },
    )
    text = yaml.safe_load((study_dir / "en.yaml").read_text(encoding="utf-8"))
    text["topics"][0]["covers"] = ["what-data", "gossip"]
    (study_dir / "en.yaml").write_text(yaml.safe_dump(text, allow_unicode=True), "utf-8")
    found = "\n".join(problems(study_dir))
    assert "reading.grade: must be a number above zero, not 'easy'" in found
    assert "reading.speed: is not a known field" in found
    assert "changes: describes a change from an earlier version" in found
    assert "changes.purposes[0]: 'selling' is not a purpose of this study" in found
    assert "changes.reconsent: must be required or notify, not 'maybe'" in found
    assert "topics[0].covers[1]: 'gossip' is not one of: why-you" in found


def test_changes_need_their_explanation_in_the_default_language(study_dir: Path) -> None:
    edit(
        study_dir / "study.yaml",
        {"version": 2, "changes": {"purposes": ["updates"], "reconsent": "notify"}},
    )
    found = problems(study_dir)
    assert any("en.yaml: changes: is missing" in problem for problem in found)
