"""A study loads the same from its folder and from stored files; the content hash is exact."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentbot.content.files import StudyFiles, read_folder
from consentbot.content.loader import load_study, load_study_files
from consentbot.content.problems import ContentError, ContentProblem
from consentbot.store.published import stored_label
from tests.support.journey import ROOT, STUDY

SAMPLE = ROOT / "content" / "studies" / STUDY


def sample_files() -> StudyFiles:
    problems: list[ContentProblem] = []
    files = read_folder(SAMPLE, problems)
    assert files is not None, problems
    return files


def test_stored_files_load_to_the_same_study_and_digests() -> None:
    from_folder = load_study(SAMPLE)
    stored = StudyFiles.from_texts(STUDY, stored_label(STUDY, 1), sample_files().texts())
    from_files = load_study_files(stored)
    assert set(stored.files) == {"study.yaml", "en.yaml", "cy.yaml", "pl.yaml", "ur.yaml"}
    assert from_files.version == from_folder.version
    assert {code: text.digest for code, text in from_files.texts.items()} == {
        code: text.digest for code, text in from_folder.texts.items()
    }
    # Warnings name where the study was read from; everything people read is the same.
    assert replace(from_files, warnings=()) == replace(from_folder, warnings=())
    assert [w.problem for w in from_files.warnings] == [w.problem for w in from_folder.warnings]
    assert stored.content_hash == sample_files().content_hash


def test_problems_in_stored_files_name_the_file() -> None:
    texts = sample_files().texts()
    texts["pl.yaml"] = "title: [unclosed\n"
    label = stored_label(STUDY, 3)
    with pytest.raises(ContentError) as caught:
        load_study_files(StudyFiles.from_texts(STUDY, label, texts))
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"{label / 'pl.yaml'}:2: is not valid YAML")


def test_stored_files_without_study_yaml_are_refused() -> None:
    texts = sample_files().texts()
    del texts["study.yaml"]
    with pytest.raises(ContentError, match=r"study\.yaml: is missing"):
        load_study_files(StudyFiles.from_texts(STUDY, stored_label(STUDY, 1), texts))


def test_differences_name_each_file() -> None:
    ours = sample_files()
    texts = ours.texts()
    texts["cy.yaml"] += "\n"
    del texts["ur.yaml"]
    texts["fr.yaml"] = "language: fr\n"
    theirs = StudyFiles.from_texts(STUDY, SAMPLE, texts)
    assert theirs.differences(ours) == [
        ("cy.yaml", "was changed"),
        ("fr.yaml", "is new"),
        ("ur.yaml", "was removed"),
    ]
    assert ours.differences(ours) == []


names = st.sampled_from(["study.yaml", "en.yaml", "cy.yaml"])


@given(
    st.dictionaries(names, st.binary(max_size=20)), st.dictionaries(names, st.binary(max_size=20))
)
def test_content_hash_is_equal_exactly_when_the_files_are(
    first: dict[str, bytes], second: dict[str, bytes]
) -> None:
    a = StudyFiles(STUDY, Path("a"), first)
    b = StudyFiles(STUDY, Path("b"), second)
    assert (a.content_hash == b.content_hash) == (first == second)


def test_moving_bytes_between_files_changes_the_hash() -> None:
    one = StudyFiles(STUDY, SAMPLE, {"cy.yaml": b"ab", "en.yaml": b"c"})
    other = StudyFiles(STUDY, SAMPLE, {"cy.yaml": b"a", "en.yaml": b"bc"})
    assert one.content_hash != other.content_hash
