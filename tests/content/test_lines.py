"""Field paths and places inside texts map to the line an author should edit."""

from __future__ import annotations

from pathlib import Path

import yaml

from consentbot.content.lines import YamlLines, path_steps

SOURCE = """\
title: Plain words
summary: >-
  First sentence here.
  Second one is on
  this line. Third.
topics:
  - id: a
    detail: |-
      Line one.

      - item two
      - item three # not a comment
  - id: b
    summary: "A quoted text\\n\\nwith an escape. And then\\
      a sentence on the next line."
purposes:
  updates: {question: 'Can we? It''s fine.'}
"""


def lines_of(tmp_path: Path, source: str = SOURCE) -> tuple[YamlLines, dict[str, object]]:
    path = tmp_path / "en.yaml"
    path.write_text(source, encoding="utf-8")
    return YamlLines.read(path), yaml.safe_load(source)


def test_path_steps() -> None:
    assert path_steps("topics[2].detail") == ["topics", 2, "detail"]
    assert path_steps("purposes.records-research.question") == [
        "purposes",
        "records-research",
        "question",
    ]


def test_field_lines_and_missing_fields_take_their_parents_line(tmp_path: Path) -> None:
    lines, _ = lines_of(tmp_path)
    assert lines.line("title") == 1
    assert lines.line("topics") == 6
    assert lines.line("topics[1]") == 13
    assert lines.line("topics[1].summary") == 14
    assert lines.line("purposes.updates.question") == 17
    assert lines.line("topics[0].summary") == 7  # missing: the topic's line
    assert lines.line("topics[9].detail") == 6  # no such topic: the list's line
    assert lines.line("language") is None  # missing at the top: the whole file
    assert lines.line("") is None


def test_a_place_in_a_folded_block_is_on_its_own_line(tmp_path: Path) -> None:
    lines, data = lines_of(tmp_path)
    summary = str(data["summary"])
    assert lines.text_line("summary", summary.index("First"), summary) == 3
    assert lines.text_line("summary", summary.index("Second"), summary) == 4
    assert lines.text_line("summary", summary.index("Third"), summary) == 5


def test_a_place_in_a_literal_block_is_on_its_own_line(tmp_path: Path) -> None:
    lines, data = lines_of(tmp_path)
    detail = str(data["topics"][0]["detail"])  # type: ignore[index]
    assert lines.text_line("topics[0].detail", detail.index("item two"), detail) == 11
    assert lines.text_line("topics[0].detail", detail.index("item three"), detail) == 12
    # The loader strips texts; a stripped value still finds its line.
    stripped = " " + detail
    assert lines.text_line("topics[0].detail", stripped.index("item two"), stripped) == 11


def test_a_place_in_a_double_quoted_text_skips_its_escapes(tmp_path: Path) -> None:
    lines, data = lines_of(tmp_path)
    summary = str(data["topics"][1]["summary"])  # type: ignore[index]
    assert lines.text_line("topics[1].summary", summary.index("with"), summary) == 14
    assert lines.text_line("topics[1].summary", summary.index("a sentence"), summary) == 15


def test_a_place_in_a_flow_mapping_is_on_the_fields_line(tmp_path: Path) -> None:
    lines, _ = lines_of(tmp_path)
    question = "Can we? It's fine."
    field = "purposes.updates.question"
    assert lines.text_line(field, question.index("It"), question) == 17


def test_a_missing_field_or_an_unreadable_file_gives_the_nearest_line(tmp_path: Path) -> None:
    lines, _ = lines_of(tmp_path)
    assert lines.text_line("topics[0].summary", 0, "anything") == 7
    (tmp_path / "broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    broken = YamlLines.read(tmp_path / "broken.yaml")
    assert broken.line("title") is None
    assert broken.text_line("title", 0, "x") is None
    assert YamlLines.read(tmp_path / "absent.yaml").line("title") is None
