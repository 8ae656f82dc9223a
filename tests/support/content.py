"""Study content for tests that need more than the shipped sample study."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from consentbot.content.coverage import Coverage
from tests.support.journey import ROOT, STUDY

SECOND_STUDY = "hip-recovery"
SECOND_KEYWORD = "HIPS"
SECOND_TITLE = "Hip Recovery After Surgery"
SECOND_PURPOSES = ("records-research", "updates")


def with_second_study(target: Path) -> Path:
    """A copy of content/ plus a second, English-only study (keyword HIPS, two purposes)."""
    shutil.copytree(ROOT / "content", target)
    source = target / "studies" / STUDY
    folder = target / "studies" / SECOND_STUDY
    folder.mkdir()
    study: dict[str, Any] = yaml.safe_load((source / "study.yaml").read_text(encoding="utf-8"))
    study.update(
        id=SECOND_STUDY,
        keyword=SECOND_KEYWORD,
        languages=["en"],
        purposes=[p for p in study["purposes"] if p["id"] in SECOND_PURPOSES],
        contact={"phone": "+44 161 000 0001", "email": "hips-study@example.org"},
    )
    text: dict[str, Any] = yaml.safe_load((source / "en.yaml").read_text(encoding="utf-8"))
    text.update(
        title=SECOND_TITLE,
        summary="High Fells NHS Trust wants to learn how people recover after a new hip. "
        "It is your choice. Saying no will not change your care.",
        purposes={k: v for k, v in text["purposes"].items() if k in SECOND_PURPOSES},
    )
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    (folder / "en.yaml").write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    return target


def sample_copy(target: Path) -> Path:
    """A byte-for-byte copy of content/ (the content folder to hand to Settings)."""
    shutil.copytree(ROOT / "content", target)
    return target


def set_version(content: Path, version: int, study: str = STUDY) -> None:
    """Change only the ``version:`` line of a study's study.yaml."""
    path = content / "studies" / study / "study.yaml"
    text = path.read_text(encoding="utf-8")
    lines = [
        f"version: {version}" if line.startswith("version:") else line for line in text.split("\n")
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def edit_summary(content: Path, summary: str, language: str = "en", study: str = STUDY) -> None:
    """Replace one language's summary (the file is rewritten: its bytes change)."""
    path = content / "studies" / study / f"{language}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["summary"] = summary
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def study_copy(target: Path) -> Path:
    """A copy of the sample study under ``target/studies/``; returns the study's folder."""
    folder = target / "studies" / STUDY
    shutil.copytree(ROOT / "content" / "studies" / STUDY, folder)
    return folder


def edit_yaml(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Load ``path``, let ``change`` edit the data, write it back (comments are lost)."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def cover_everything(folder: Path) -> None:
    """Let the first topic of every language declare every coverage item.

    Until the sample study declares its own, this is how a test gets content without
    coverage errors.
    """
    everything = [item.value for item in Coverage]
    for path in folder.glob("*.yaml"):
        if path.name != "study.yaml":
            edit_yaml(path, lambda data: data["topics"][0].update(covers=everything))


def awake_copy(target: Path) -> Path:
    """A copy of content/ without quiet hours, for a command run as a real process.

    A process runs on the wall clock: in the sample study's quiet hours (21:00-08:00 in
    London) every message we start waits for morning, so a test of sending that ran in
    the evening would see nothing sent.
    """
    shutil.copytree(ROOT / "content", target)
    path = target / "studies" / STUDY / "study.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    kept = [line for line in lines if not line.startswith("quiet_hours:")]
    assert len(kept) == len(lines) - 1, "the sample study no longer sets quiet_hours"
    path.write_text("\n".join(kept), encoding="utf-8")
    return target
