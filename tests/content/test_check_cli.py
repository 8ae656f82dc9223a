"""``consentbot content check`` through the real entry point: output shapes and exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from consentbot.cli import main
from tests.support.content import cover_everything, edit_yaml, study_copy
from tests.support.journey import ROOT, STUDY
from tests.support.logs import restore_logging  # noqa: F401 (a fixture)

# main() configures logging for the whole process, to the stream capsys replaces.
pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checked-clean copy of the sample study; CONSENTBOT_CONTENT_DIR points at it."""
    for name in os.environ:
        if name.startswith("CONSENTBOT_"):
            monkeypatch.delenv(name)
    root = tmp_path / "content"
    cover_everything(study_copy(root))
    monkeypatch.setenv("CONSENTBOT_CONTENT_DIR", str(root))
    monkeypatch.setenv("CONSENTBOT_LOCALES_DIR", str(ROOT / "locales"))
    monkeypatch.setenv("CONSENTBOT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONSENTBOT_LOG_LEVEL", "WARNING")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["content", "check", *args])
    return code, capsys.readouterr().out


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out = run(capsys, *args, "--format", "json")
    parsed: dict[str, Any] = json.loads(out)
    return code, parsed


def test_warnings_only_exit_zero_with_the_exact_json_shape(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = as_json(capsys)
    assert code == 0
    assert list(report) == ["studies"]
    (study,) = report["studies"]
    assert list(study) == ["id", "problems"]
    assert study["id"] == STUDY
    assert study["problems"], "the sample's drafts are warnings"
    for problem in study["problems"]:
        assert list(problem) == ["severity", "file", "line", "field", "message"]
        assert problem["severity"] == "warning"
        assert isinstance(problem["line"], int)
    drafts = [p for p in study["problems"] if p["field"] == "status"]
    assert {Path(p["file"]).name for p in drafts} == {"cy.yaml", "pl.yaml", "ur.yaml"}


def test_an_error_exits_one_and_prints_severity_file_line_field_message(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    en = content / "studies" / STUDY / "en.yaml"
    def uncover(data: dict[str, Any]) -> None:
        for topic in data["topics"]:
            topic["covers"] = [item for item in topic.get("covers", []) if item != "complaints"]

    edit_yaml(en, uncover)
    code, out = run(capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{STUDY}: 1 error, ")
    (error,) = [line for line in lines if line.startswith("  error ")]
    assert error.startswith(f"  error {en}:")
    assert ": topics: no topic covers 'complaints' (how to complain, and to whom)" in error
    assert lines[-1].startswith("1 study checked: 1 error, ")


def test_schema_errors_keep_the_json_shape_with_a_null_line(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = content / "studies" / STUDY
    (folder / "de.yaml").write_text("language: de\n", encoding="utf-8")
    edit_yaml(folder / "cy.yaml", lambda data: data.update(status="final"))
    code, report = as_json(capsys)
    assert code == 1
    problems = report["studies"][0]["problems"]
    assert {
        "severity": "error",
        "file": str(folder / "de.yaml"),
        "line": None,
        "field": "",
        "message": "'de' is not in study.yaml's languages",
    } in problems
    (status,) = [p for p in problems if p["field"] == "status"]
    assert (status["severity"], status["line"]) == ("error", 2)


def test_dir_and_study_arguments(
    content: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONSENTBOT_CONTENT_DIR", str(tmp_path / "elsewhere"))
    code, report = as_json(capsys, str(content), "--study", STUDY)
    assert code == 0
    assert [s["id"] for s in report["studies"]] == [STUDY]
    code, report = as_json(capsys, str(content), "--study", "no-such-study")
    assert code == 1
    assert report["studies"][0]["problems"][0]["message"] == "is not a folder of study files"
    code, out = run(capsys)  # the default folder, which does not exist
    assert code == 1
    assert f"error {tmp_path / 'elsewhere' / 'studies'}: is not a folder of studies" in out
