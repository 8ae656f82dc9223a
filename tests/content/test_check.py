"""The content checks: coverage, plain language, SMS cost, translations, and schema errors,
each with the file, line and field an author must edit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from consentbot.content.check import StudyReport, check_content
from consentbot.content.coverage import Coverage
from consentbot.content.problems import ContentProblem, Severity
from consentbot.content.sms_cost import REPRESENTATIVE_PUBLIC_URL, Sending
from consentbot.domain.sms_segments import segment_count
from consentbot.i18n.catalogs import Catalogs
from tests.support.content import cover_everything, edit_yaml, study_copy
from tests.support.journey import ROOT, STUDY

LONG_SENTENCE = (
    "Meanwhile the team that looks after the records checks every request that comes in "
    "before anyone can see any of the data at all."
)


@pytest.fixture(scope="module")
def sending() -> Sending:
    return Sending(Catalogs.load(ROOT / "locales"))


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    folder = study_copy(tmp_path)
    cover_everything(folder)
    return folder


def check(folder: Path, sending: Sending | None = None) -> StudyReport:
    (report,) = check_content(folder.parent.parent, STUDY, sending)
    return report


def found(report: StudyReport, file: str, field: str) -> list[ContentProblem]:
    return [p for p in report.problems if p.file.name == file and p.field == field]


def line_of(path: Path, pattern: str) -> int:
    """The 1-based line where ``pattern`` (a regular expression) first matches in ``path``."""
    text = path.read_text("utf-8")
    match = re.search(pattern, text, re.MULTILINE)
    assert match is not None, pattern
    return text.count("\n", 0, match.start()) + 1


class _Literal(yaml.SafeDumper):
    """Writes multi-line texts as ``|`` blocks, the way authors write details."""


_Literal.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


def write_literal(path: Path, data: dict[str, Any]) -> None:
    path.write_text(
        yaml.dump(data, Dumper=_Literal, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def test_every_item_covered_gives_no_coverage_error(study_dir: Path) -> None:
    assert check(study_dir).errors == []


def test_an_item_no_topic_covers_is_an_error_in_the_default_language(study_dir: Path) -> None:
    def drop_approval(data: dict[str, Any]) -> None:
        data["topics"][0]["covers"].remove("approval")

    edit_yaml(study_dir / "en.yaml", drop_approval)
    edit_yaml(study_dir / "cy.yaml", drop_approval)  # other languages are not checked
    (error,) = check(study_dir).errors
    assert (error.file, error.field, error.severity) == (
        study_dir / "en.yaml",
        "topics",
        Severity.ERROR,
    )
    assert error.line == line_of(study_dir / "en.yaml", "^topics:")
    assert error.problem.startswith("no topic covers 'approval' (the ethics committee, sponsor")


def test_coverage_may_be_spread_over_topics(study_dir: Path) -> None:
    def spread(data: dict[str, Any]) -> None:
        items = [c.value for c in Coverage]
        for index, topic in enumerate(data["topics"]):
            topic["covers"] = items[index :: len(data["topics"])]

    edit_yaml(study_dir / "en.yaml", spread)
    assert check(study_dir).errors == []


def test_a_long_sentence_inside_a_block_is_flagged_on_its_own_line(study_dir: Path) -> None:
    path = study_dir / "en.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["topics"][1]["detail"] = (
        f"Short one.\n\nAnother short one.\n{LONG_SENTENCE}\n- a list item"
    )
    write_literal(path, data)
    (warning,) = [
        p
        for p in found(check(study_dir), "en.yaml", "topics[1].detail")
        if "a sentence of" in p.problem
    ]
    assert warning.severity is Severity.WARNING
    assert warning.line == line_of(path, "Meanwhile")
    assert warning.line > line_of(path, "Another short one")
    assert warning.problem.startswith('a sentence of 24 words (at most 20): "Meanwhile the team')


def test_each_list_item_counts_as_a_sentence(study_dir: Path) -> None:
    items = "\n".join(f"- item number {n} is short" for n in range(10))
    edit_yaml(study_dir / "en.yaml", lambda data: data["topics"][1].update(detail=items))
    assert found(check(study_dir), "en.yaml", "topics[1].detail") == []


def test_the_sentence_limit_comes_from_the_study(study_dir: Path) -> None:
    def long_ones(report: StudyReport) -> list[ContentProblem]:
        return [
            p for p in found(report, "en.yaml", "topics[1].detail") if "a sentence of" in p.problem
        ]

    edit_yaml(study_dir / "en.yaml", lambda data: data["topics"][1].update(detail=LONG_SENTENCE))
    assert long_ones(check(study_dir))
    edit_yaml(study_dir / "study.yaml", lambda data: data.update(reading={"sentence_words": 30}))
    assert long_ones(check(study_dir)) == []


def test_hard_english_gets_a_flesch_kincaid_warning_on_its_line(study_dir: Path) -> None:
    hard = "Will you authorise pseudonymised epidemiological investigation?"
    plain = "Can we use your notes? You can say no."

    def questions(data: dict[str, Any]) -> None:
        data["purposes"]["recontact"]["question"] = hard
        data["purposes"]["updates"]["question"] = plain

    edit_yaml(study_dir / "en.yaml", questions)
    report = check(study_dir)
    (warning,) = found(report, "en.yaml", "purposes.recontact.question")
    assert warning.problem.startswith("reads at Flesch-Kincaid grade ")
    assert warning.problem.split(" (at most ")[1].startswith("6)")
    assert warning.line == line_of(study_dir / "en.yaml", "question: Will you authorise")
    assert found(report, "en.yaml", "purposes.updates.question") == []


def test_other_languages_get_lix_with_the_studys_limit(study_dir: Path) -> None:
    hard = "Czy upoważniasz naukowców do przeprowadzania skomplikowanych analiz epidemiologicznych?"
    edit_yaml(study_dir / "pl.yaml", lambda data: data.update(summary=hard))
    (warning,) = found(check(study_dir), "pl.yaml", "summary")
    assert re.fullmatch(r"reads at LIX \d+\.\d \(at most 40\): .*", warning.problem)
    edit_yaml(study_dir / "study.yaml", lambda data: data.update(reading={"lix": 95}))
    assert found(check(study_dir), "pl.yaml", "summary") == []


def segments_in(problem: ContentProblem) -> tuple[int, str]:
    match = re.search(r" is (\d+) segments in (GSM-7|UCS-2)", problem.problem)
    assert match is not None, problem.problem
    return int(match.group(1)), match.group(2)


def test_an_invitation_is_costed_with_the_ui_text_around_it(
    study_dir: Path, sending: Sending
) -> None:
    title = "Joint Health Records"
    summary = ("We want to learn how to help people with sore joints. " * 6).strip()
    edit_yaml(study_dir / "en.yaml", lambda data: data.update(title=title, summary=summary))
    assert segment_count(f"{title}\n{summary}") <= 3  # the study's words alone would fit
    invitations = found(check(study_dir, sending), "en.yaml", "summary")
    assert [segments_in(p) for p in invitations] == [(4, "GSM-7"), (4, "GSM-7")]
    without, with_link = invitations
    assert "without a web link" in without.problem
    assert "with a web link" in with_link.problem
    assert REPRESENTATIVE_PUBLIC_URL in with_link.problem  # says the link was made up
    assert without.line == with_link.line == line_of(study_dir / "en.yaml", "^summary:")


def test_a_short_invitation_is_fine_with_a_real_public_url(
    study_dir: Path, sending: Sending
) -> None:
    edit_yaml(study_dir / "en.yaml", lambda data: data.update(summary="A short summary."))
    real = Sending(sending.catalogs, public_url="https://consent.fellside.example")
    assert found(check(study_dir, real), "en.yaml", "summary") == []


def test_the_link_is_costed_at_the_real_public_urls_length(
    study_dir: Path, sending: Sending
) -> None:
    summary = ("We want to learn how to help people with sore joints. " * 2).strip()
    edit_yaml(study_dir / "en.yaml", lambda data: data.update(title="Joints", summary=summary))
    long_url = Sending(sending.catalogs, public_url="https://" + "very-long-" * 20 + "example.org")
    assert found(check(study_dir, sending), "en.yaml", "summary") == []
    (warning,) = found(check(study_dir, long_url), "en.yaml", "summary")
    assert "with a web link" in warning.problem
    assert "CONSENTBOT_PUBLIC_URL" not in warning.problem


def test_a_long_urdu_topic_summary_is_costed_in_ucs2(study_dir: Path, sending: Sending) -> None:
    def summaries(data: dict[str, Any]) -> None:
        data["topics"][0]["summary"] = "ہم آپ کے جی پی اور ہسپتال کے ریکارڈ استعمال کرتے ہیں۔ " * 3
        data["topics"][1]["summary"] = "محققین۔"

    edit_yaml(study_dir / "ur.yaml", summaries)
    report = check(study_dir, sending)
    (warning,) = [
        p for p in found(report, "ur.yaml", "topics[0].summary") if "segments" in p.problem
    ]
    assert segments_in(warning)[1] == "UCS-2"
    assert segments_in(warning)[0] > 2
    assert warning.line == line_of(study_dir / "ur.yaml", "ہسپتال کے ریکارڈ استعمال")
    assert [
        p for p in found(report, "ur.yaml", "topics[1].summary") if "segments" in p.problem
    ] == []


def test_sms_cost_is_skipped_without_sending(study_dir: Path) -> None:
    assert not [p for p in check(study_dir).problems if "segments" in p.problem]


def test_stale_and_draft_translations_are_warnings_per_file(study_dir: Path) -> None:
    edit_yaml(study_dir / "study.yaml", lambda data: data.update(version=2))
    for code in ("en", "pl"):
        edit_yaml(study_dir / f"{code}.yaml", lambda data: data.update(translated_from_version=2))
    edit_yaml(study_dir / "cy.yaml", lambda data: data.update(status="reviewed"))
    report = check(study_dir)
    stale = {p.file.name for p in report.warnings if p.field == "translated_from_version"}
    draft = {p.file.name for p in report.warnings if p.field == "status"}
    assert stale == {"cy.yaml", "ur.yaml"}
    assert draft == {"pl.yaml", "ur.yaml"}
    (ur_stale,) = found(report, "ur.yaml", "translated_from_version")
    assert ur_stale.problem.startswith("1 is older than the study's version 2")
    assert ur_stale.line == line_of(study_dir / "ur.yaml", "^translated_from_version:")
    assert report.errors == []


def test_schema_errors_are_reported_in_the_same_shape(study_dir: Path) -> None:
    edit_yaml(study_dir / "ur.yaml", lambda data: data.update(status="final"))
    edit_yaml(study_dir / "pl.yaml", lambda data: data["topics"][2].pop("summary"))
    third = yaml.safe_load((study_dir / "pl.yaml").read_text(encoding="utf-8"))["topics"][2]["id"]
    report = check(study_dir)
    (status,) = found(report, "ur.yaml", "status")
    assert (status.severity, status.line) == (
        Severity.ERROR,
        line_of(study_dir / "ur.yaml", "^status:"),
    )
    (missing,) = found(report, "pl.yaml", "topics[2].summary")
    assert missing.problem == "is missing"
    assert missing.line == line_of(study_dir / "pl.yaml", f"id: {third}")
    assert report.warnings == []  # a study that does not load is not checked further


def test_an_unknown_study_or_folder_is_one_error(tmp_path: Path, study_dir: Path) -> None:
    (report,) = check_content(tmp_path, "no-such-study")
    assert report.id == "no-such-study"
    assert [p.problem for p in report.errors] == ["is not a folder of study files"]
    (empty,) = check_content(tmp_path / "nowhere")
    assert [str(p) for p in empty.errors] == [
        f"{tmp_path / 'nowhere' / 'studies'}: is not a folder of studies"
    ]


def test_a_caller_can_add_its_own_problem_placed_on_its_line(study_dir: Path) -> None:
    report = check(study_dir)
    assert report.errors == []
    report.add(ContentProblem(study_dir / "study.yaml", "version", "raise `version` and publish"))
    (error,) = report.errors
    assert error.line == line_of(study_dir / "study.yaml", "^version:")
