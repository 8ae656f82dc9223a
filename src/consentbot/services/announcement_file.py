"""An announcement file (``update.yaml``): its id and one text per language of the study.

Pure: bytes in, the announcement and its problems out. :func:`check_for_study` then checks
the texts against the study, as each person will get them (framed by
:func:`~consentbot.conversation.announcement_messages.announcement`, split and counted as
the outbox does). Every problem names the field at fault, so the team can fix the file.

```yaml
id: results-2027-01
texts:
  en: "The first results are out: ..."
  cy: "..."
```

Every language the study offers needs its text: nobody is sent news in a language they
did not choose. A person whose stored language the study no longer offers gets the
default language's text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from consentbot.content.model import Study
from consentbot.content.sms_cost import ENCODING_NAMES, SmsCost, sms_cost
from consentbot.conversation.announcement_messages import KEYWORD_PLACEHOLDERS
from consentbot.domain.sms_segments import segment_count

ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ID_LENGTH = 100
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
FIELDS = frozenset({"id", "texts"})


@dataclass(frozen=True, slots=True)
class FileProblem:
    """What is wrong with one field (``""``: the whole file)."""

    field: str
    error: str

    def __str__(self) -> str:
        return f"{self.field}: {self.error}" if self.field else self.error


@dataclass(frozen=True, slots=True)
class AnnouncementFile:
    """An announcement as written: ``texts`` by language code, trimmed."""

    id: str
    texts: Mapping[str, str]

    @property
    def digest(self) -> str:
        """SHA-256 of the texts: a re-run must send the same words under the same id."""
        canonical = json.dumps(dict(sorted(self.texts.items())), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The announcement, when the file could be read, and every problem found reading it."""

    announcement: AnnouncementFile | None
    problems: tuple[FileProblem, ...]


def parse_announcement(data: bytes) -> ParsedFile:
    """Read an announcement file; every problem is listed at once where possible."""
    try:
        raw: Any = yaml.safe_load(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return _failed("", "is not UTF-8 text")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return _failed("", f"is not valid YAML{where}: {getattr(error, 'problem', None) or error}")
    if not isinstance(raw, dict):
        return _failed("", "must be a YAML mapping with the fields id and texts")
    problems = [
        FileProblem(str(key), "is not a known field (expected id and texts)")
        for key in raw
        if key not in FIELDS
    ]
    announcement_id = raw.get("id")
    if not isinstance(announcement_id, str) or not announcement_id.strip():
        problems.append(FileProblem("id", "is required: a name such as results-2027-01"))
        announcement_id = ""
    elif not ID.match(announcement_id) or len(announcement_id) > ID_LENGTH:
        problems.append(
            FileProblem(
                "id",
                f"{announcement_id!r} must be lower-case letters, digits and hyphens "
                f"(at most {ID_LENGTH}), such as results-2027-01",
            )
        )
    texts: dict[str, str] = {}
    given = raw.get("texts")
    if not isinstance(given, dict) or not given:
        problems.append(FileProblem("texts", "is required: one text per language, e.g. en: ..."))
    else:
        for language, text in given.items():
            field = f"texts.{language}"
            if not isinstance(text, str):
                problems.append(FileProblem(field, "must be text"))
            elif not text.strip():
                problems.append(FileProblem(field, "is empty"))
            else:
                texts[str(language)] = text.strip()
    if problems:
        return ParsedFile(None, tuple(problems))
    return ParsedFile(AnnouncementFile(announcement_id, texts), ())


def check_for_study(
    announcement: AnnouncementFile,
    study: Study,
    render: Callable[[str, str], str],
    max_segments: int,
) -> tuple[dict[str, SmsCost], list[FileProblem]]:
    """Check the texts against ``study``: every language it offers, no other, only keyword
    placeholders, and each message, as ``render(language, text)`` frames it, no longer
    than one SMS of ``max_segments`` segments. Returns each language's cost."""
    problems = [
        FileProblem(f"texts.{language}", "is missing: every language of the study needs its text")
        for language in study.languages
        if language not in announcement.texts
    ]
    costs: dict[str, SmsCost] = {}
    for language, text in announcement.texts.items():
        field = f"texts.{language}"
        if language not in study.languages:
            offered = ", ".join(study.languages)
            problems.append(FileProblem(field, f"is not a language of the study ({offered})"))
            continue
        unknown = sorted(set(PLACEHOLDER.findall(text)) - KEYWORD_PLACEHOLDERS)
        if unknown:
            known = ", ".join(f"{{{name}}}" for name in sorted(KEYWORD_PLACEHOLDERS))
            problems.append(
                FileProblem(
                    field,
                    f"unknown placeholder {', '.join(f'{{{name}}}' for name in unknown)}: "
                    f"only keywords can be filled in ({known})",
                )
            )
            continue
        message = render(language, text)
        cost = sms_cost(message, max_segments)
        costs[language] = cost
        if cost.messages > 1:
            whole = segment_count(message)
            problems.append(
                FileProblem(
                    field,
                    f"is {whole} segments in {ENCODING_NAMES[cost.encoding]} as sent "
                    f"(with the study's name and the STOP line): at most {max_segments} "
                    "(CONSENTBOT_SMS_MAX_SEGMENTS). Shorten it",
                )
            )
    return costs, problems


def _failed(field: str, error: str) -> ParsedFile:
    return ParsedFile(None, (FileProblem(field, error),))
