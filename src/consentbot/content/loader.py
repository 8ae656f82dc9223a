"""Load ``content/studies/<id>/`` and check it against the study content format.

Every problem is collected before failing, so an author fixes a file in one pass.
A study loads from its folder or from its files as stored when it was published
(:func:`load_study_files`): the same checks, the same digests.
See docs/content-format.md for the format.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import Locale, UnknownLocaleError

from consentbot.content.coverage import Coverage
from consentbot.content.files import STUDY_FILE, StudyFiles, read_folder
from consentbot.content.lines import LinesCache
from consentbot.content.model import (
    Contact,
    Purpose,
    PurposeText,
    ReadingLimits,
    Reconsent,
    Study,
    StudyCatalogue,
    StudyChanges,
    StudyText,
    Topic,
)
from consentbot.content.problems import ContentError, ContentProblem, Severity
from consentbot.content.translations import translation_warnings
from consentbot.domain.callbacks import CallbackHours, CallbackHoursError
from consentbot.domain.cooling_off import CoolingOff
from consentbot.domain.durations import DurationError, parse_duration
from consentbot.domain.quiet_hours import QuietHours, QuietHoursError

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEYWORD = re.compile(r"^[A-Z][A-Z0-9]{2,19}$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
TEXT_STATUSES = ("draft", "reviewed")
DEFAULT_REMIND_LATER = "P2D"

STUDY_KEYS = {
    "id",
    "version",
    "keyword",
    "default_language",
    "languages",
    "timezone",
    "cooling_off",
    "confirm_within",
    "quiet_hours",
    "callback_hours",
    "remind_later",
    "contact",
    "purposes",
    "reading",
    "changes",
}
TEXT_KEYS = {
    "language",
    "status",
    "translated_from_version",
    "title",
    "summary",
    "topics",
    "purposes",
    "changes",
}
TOPIC_KEYS = ("id", "title", "summary", "detail")
READING_KEYS = {"grade", "lix", "sentence_words"}
PURPOSE_TEXT_KEYS = ("title", "question", "explanation")

# Words the conversation itself uses; a study keyword equal to one would be ambiguous.
RESERVED_KEYWORDS = frozenset(
    {
        "MORE",
        "YES",
        "NO",
        "CONFIRM",
        "CHOICES",
        "CHANGE",
        "WITHDRAW",
        "LATER",
        "HELP",
        "INFO",
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "START",
        "UNSTOP",
        "LANGUAGE",
    }
)


class _Checker:
    """Collects problems for one file."""

    def __init__(self, path: Path, problems: list[ContentProblem]) -> None:
        self.path = path
        self.problems = problems

    def add(self, field: str, problem: str) -> None:
        self.problems.append(ContentProblem(self.path, field, problem))

    def text(self, data: Mapping[str, Any], key: str, where: str = "") -> str:
        field = f"{where}{key}"
        value = data.get(key)
        if value is None:
            self.add(field, "is missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(field, "must be a non-empty text")
            return ""
        return value.strip()

    def integer(self, data: Mapping[str, Any], key: str, minimum: int) -> int:
        value = data.get(key)
        if value is None:
            self.add(key, "is missing")
            return minimum
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.add(key, f"must be a whole number of at least {minimum}, not {value!r}")
            return minimum
        return value

    def duration(self, data: Mapping[str, Any], key: str, default: str | None = None) -> timedelta:
        value = data.get(key, default)
        if value is None:
            self.add(key, "is missing (an ISO 8601 duration such as P1D)")
            return timedelta(0)
        try:
            delta = parse_duration(str(value))
        except DurationError as error:
            self.add(key, str(error))
            return timedelta(0)
        if delta <= timedelta(0):
            self.add(key, "must be longer than zero")
        return delta

    def unknown_keys(self, data: Mapping[str, Any], allowed: set[str], where: str = "") -> None:
        for key in sorted(set(data) - allowed):
            self.add(
                f"{where}{key}",
                f"is not a known field (expected one of: {', '.join(sorted(allowed))})",
            )


def _read_yaml(path: Path, raw: bytes, problems: list[ContentProblem]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        problems.append(ContentProblem(path, "", "is not UTF-8 text"))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (column {mark.column + 1})" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        line = mark.line + 1 if mark else None
        problems.append(ContentProblem(path, "", f"is not valid YAML{where}: {reason}", line=line))
        return None
    if not isinstance(data, dict):
        problems.append(ContentProblem(path, "", "must be a YAML mapping of fields"))
        return None
    return data


def _language_code(check: _Checker, field: str, code: object) -> str | None:
    if not isinstance(code, str):
        check.add(field, f"must be a language code such as en, cy, pl or ur, not {code!r}")
        return None
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        check.add(field, f"{code!r} is not a language code Babel knows")
        return None
    return code


def _load_study_file(source: StudyFiles, problems: list[ContentProblem]) -> dict[str, Any] | None:
    path = source.path(STUDY_FILE)
    raw = source.files.get(STUDY_FILE)
    if raw is None:
        problems.append(ContentProblem(path, "", "is missing: every study needs one"))
        return None
    data = _read_yaml(path, raw, problems)
    if data is None:
        return None
    check = _Checker(path, problems)
    check.unknown_keys(data, STUDY_KEYS)
    study_id = check.text(data, "id")
    if study_id and not SLUG.match(study_id):
        check.add("id", f"{study_id!r} must be a slug: lower-case letters, digits and hyphens")
    elif study_id and study_id != source.study_id:
        check.add("id", f"{study_id!r} must match the folder name {source.study_id!r}")
    return data


def _purposes(check: _Checker, data: Mapping[str, Any]) -> tuple[Purpose, ...]:
    raw = data.get("purposes")
    if not isinstance(raw, list) or not raw:
        check.add("purposes", "must be a non-empty list of {id, required}")
        return ()
    purposes: list[Purpose] = []
    for index, item in enumerate(raw):
        where = f"purposes[{index}]"
        if not isinstance(item, dict):
            check.add(where, "must be a mapping with id and required")
            continue
        check.unknown_keys(item, {"id", "required"}, f"{where}.")
        purpose_id = check.text(item, "id", f"{where}.")
        if purpose_id and not SLUG.match(purpose_id):
            check.add(f"{where}.id", f"{purpose_id!r} must be a slug")
        required = item.get("required")
        if not isinstance(required, bool):
            check.add(f"{where}.required", "must be true or false")
            required = False
        if purpose_id in {p.id for p in purposes}:
            check.add(f"{where}.id", f"{purpose_id!r} appears twice")
        elif purpose_id:
            purposes.append(Purpose(purpose_id, required))
    return tuple(purposes)


def _covers(check: _Checker, raw: object, field: str) -> frozenset[Coverage]:
    if raw is None:
        return frozenset()
    known = ", ".join(item.value for item in Coverage)
    if not isinstance(raw, list):
        check.add(field, f"must be a list of what the topic covers, from: {known}")
        return frozenset()
    covered: set[Coverage] = set()
    for index, value in enumerate(raw):
        try:
            covered.add(Coverage(value))
        except ValueError:
            check.add(f"{field}[{index}]", f"{value!r} is not one of: {known}")
    return frozenset(covered)


def _reading(check: _Checker, raw: object) -> ReadingLimits:
    if raw is None:
        return ReadingLimits()
    if not isinstance(raw, dict):
        check.add("reading", "must be a mapping such as {grade: 6, lix: 40, sentence_words: 20}")
        return ReadingLimits()
    check.unknown_keys(raw, READING_KEYS, "reading.")
    limits = ReadingLimits()
    values: dict[str, float] = {}
    for key in sorted(READING_KEYS & set(raw)):
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            check.add(f"reading.{key}", f"must be a number above zero, not {value!r}")
            continue
        if key == "sentence_words" and not isinstance(value, int):
            check.add(f"reading.{key}", f"must be a whole number, not {value!r}")
            continue
        values[key] = value
    return ReadingLimits(
        grade=float(values.get("grade", limits.grade)),
        lix=float(values.get("lix", limits.lix)),
        sentence_words=int(values.get("sentence_words", limits.sentence_words)),
    )


def _changes(
    check: _Checker, raw: object, purpose_ids: tuple[str, ...], version: int
) -> StudyChanges | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        check.add("changes", "must be a mapping such as {purposes: [updates], reconsent: notify}")
        return None
    check.unknown_keys(raw, {"purposes", "reconsent"}, "changes.")
    if version < 2:
        check.add(
            "changes", "describes a change from an earlier version, so version must be 2 or more"
        )
    purposes: list[str] = []
    raw_purposes = raw.get("purposes")
    if not isinstance(raw_purposes, list) or not raw_purposes:
        check.add("changes.purposes", "must be a non-empty list of the purposes that changed")
        raw_purposes = []
    for index, value in enumerate(raw_purposes):
        if value not in purpose_ids:
            check.add(f"changes.purposes[{index}]", f"{value!r} is not a purpose of this study")
        elif value in purposes:
            check.add(f"changes.purposes[{index}]", f"{value!r} appears twice")
        else:
            purposes.append(value)
    try:
        reconsent = Reconsent(str(raw.get("reconsent")))
    except ValueError:
        choices = " or ".join(item.value for item in Reconsent)
        check.add("changes.reconsent", f"must be {choices}, not {raw.get('reconsent')!r}")
        return None
    return StudyChanges(tuple(purposes), reconsent)


def _placeholders(value: str) -> frozenset[str]:
    return frozenset(PLACEHOLDER.findall(value))


def _load_text(
    path: Path,
    raw: bytes,
    language: str,
    version: int,
    purpose_ids: tuple[str, ...],
    study_bytes: bytes,
    problems: list[ContentProblem],
) -> StudyText | None:
    before = len(problems)
    data = _read_yaml(path, raw, problems)
    if data is None:
        return None
    check = _Checker(path, problems)
    check.unknown_keys(data, TEXT_KEYS)
    if data.get("language") != language:
        check.add(
            "language", f"must be {language!r} to match the file name, not {data.get('language')!r}"
        )
    status = data.get("status")
    if status not in TEXT_STATUSES:
        check.add("status", f"must be one of {', '.join(TEXT_STATUSES)}, not {status!r}")
    from_version = check.integer(data, "translated_from_version", 1)
    if from_version > version:
        check.add(
            "translated_from_version", f"{from_version} is newer than the study's version {version}"
        )
    title = check.text(data, "title")
    summary = check.text(data, "summary")

    topics: list[Topic] = []
    raw_topics = data.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        check.add("topics", "must be a non-empty list of topics")
        raw_topics = []
    for index, item in enumerate(raw_topics):
        where = f"topics[{index}]."
        if not isinstance(item, dict):
            check.add(f"topics[{index}]", "must be a mapping with id, title, summary and detail")
            continue
        check.unknown_keys(item, {*TOPIC_KEYS, "covers"}, where)
        fields = [check.text(item, key, where) for key in TOPIC_KEYS]
        if fields[0] in {t.id for t in topics}:
            check.add(f"{where}id", f"{fields[0]!r} appears twice")
        covers = _covers(check, item.get("covers"), f"{where}covers")
        topics.append(Topic(fields[0], fields[1], fields[2], fields[3], covers))

    purposes: dict[str, PurposeText] = {}
    raw_purposes = data.get("purposes")
    if not isinstance(raw_purposes, dict):
        check.add(
            "purposes", "must be a mapping from purpose id to its title, question and explanation"
        )
        raw_purposes = {}
    for purpose_id in sorted(set(raw_purposes) - set(purpose_ids)):
        check.add(f"purposes.{purpose_id}", "is not a purpose of this study (see study.yaml)")
    for purpose_id in purpose_ids:
        item = raw_purposes.get(purpose_id)
        where = f"purposes.{purpose_id}."
        if not isinstance(item, dict):
            check.add(
                f"purposes.{purpose_id}",
                "is missing (every purpose needs a title, question and explanation)",
            )
            continue
        check.unknown_keys(item, set(PURPOSE_TEXT_KEYS), where)
        title_, question, explanation = (check.text(item, key, where) for key in PURPOSE_TEXT_KEYS)
        purposes[purpose_id] = PurposeText(title_, question, explanation)

    changes: str | None = None
    if data.get("changes") is not None:
        changes = check.text(data, "changes") or None

    if len(problems) > before:
        return None
    digest = hashlib.sha256(study_bytes + b"\0" + raw).hexdigest()
    return StudyText(
        language=language,
        status=str(status),
        translated_from_version=from_version,
        title=title,
        summary=summary,
        topics=tuple(topics),
        purposes=purposes,
        digest=digest,
        changes=changes,
    )


def _text_fields(text: StudyText) -> dict[str, str]:
    fields = {"title": text.title, "summary": text.summary}
    for index, topic in enumerate(text.topics):
        for key in TOPIC_KEYS[1:]:
            fields[f"topics[{index}].{key}"] = getattr(topic, key)
    for purpose_id, purpose in text.purposes.items():
        for key in PURPOSE_TEXT_KEYS:
            fields[f"purposes.{purpose_id}.{key}"] = getattr(purpose, key)
    return fields


def _compare_languages(
    folder: Path, default: StudyText, other: StudyText, problems: list[ContentProblem]
) -> None:
    """Translations must offer the same topics, in order, and the same placeholders."""
    path = folder / f"{other.language}.yaml"
    default_ids = [t.id for t in default.topics]
    other_ids = [t.id for t in other.topics]
    if other_ids != default_ids:
        problems.append(
            ContentProblem(
                path,
                "topics",
                f"topic ids {other_ids} must match {default.language}.yaml's {default_ids}",
            )
        )
        return
    theirs = _text_fields(other)
    for field, value in _text_fields(default).items():
        expected, found = _placeholders(value), _placeholders(theirs.get(field, ""))
        if expected != found:
            problems.append(
                ContentProblem(
                    path,
                    field,
                    f"placeholders {sorted(found)} must match {default.language}.yaml's {sorted(expected)}",
                )
            )


def load_study(folder: Path) -> Study:
    """Load one study folder; raise :class:`ContentError` listing every problem."""
    problems: list[ContentProblem] = []
    source = read_folder(folder, problems)
    study = _load_study(source, problems) if source is not None else None
    if problems or study is None:
        raise ContentError(_placed(problems))
    return study


def load_study_files(source: StudyFiles) -> Study:
    """Load one study from its files (e.g. a published version); raise :class:`ContentError`."""
    problems: list[ContentProblem] = []
    study = _load_study(source, problems)
    if problems or study is None:
        raise ContentError(problems)
    return study


def _load_study(source: StudyFiles, problems: list[ContentProblem]) -> Study | None:
    before = len(problems)
    data = _load_study_file(source, problems)
    if data is None:
        return None
    path = source.path(STUDY_FILE)
    check = _Checker(path, problems)
    version = check.integer(data, "version", 1)
    keyword = check.text(data, "keyword").upper()
    if keyword and not KEYWORD.match(keyword):
        check.add("keyword", f"{keyword!r} must be 3-20 letters or digits, starting with a letter")
    elif keyword in RESERVED_KEYWORDS:
        check.add("keyword", f"{keyword!r} is a word the conversation already uses")

    languages: list[str] = []
    raw_languages = data.get("languages")
    if not isinstance(raw_languages, list) or not raw_languages:
        check.add("languages", "must be a non-empty list of language codes")
        raw_languages = []
    for index, code in enumerate(raw_languages):
        parsed = _language_code(check, f"languages[{index}]", code)
        if parsed in languages:
            check.add(f"languages[{index}]", f"{parsed!r} appears twice")
        elif parsed:
            languages.append(parsed)
    default_language = check.text(data, "default_language")
    if default_language and languages and default_language not in languages:
        check.add("default_language", f"{default_language!r} must be one of languages {languages}")

    zone: ZoneInfo | None = None
    zone_name = check.text(data, "timezone")
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            check.add("timezone", f"{zone_name!r} is not an IANA time zone such as Europe/London")

    cooling = check.duration(data, "cooling_off")
    confirm_within = check.duration(data, "confirm_within")
    remind_later = check.duration(data, "remind_later", DEFAULT_REMIND_LATER)
    warnings: list[ContentProblem] = []
    if timedelta(0) < cooling < timedelta(hours=24):
        warnings.append(
            ContentProblem(
                path,
                "cooling_off",
                f"{data.get('cooling_off')} is under 24 hours; "
                "people asked for time to think away from a stressful moment",
                Severity.WARNING,
            )
        )

    quiet: QuietHours | None = None
    if data.get("quiet_hours") is not None:
        try:
            quiet = QuietHours.parse(str(data["quiet_hours"]))
        except QuietHoursError as error:
            check.add("quiet_hours", str(error))

    callback_hours: CallbackHours | None = None
    if data.get("callback_hours") is not None:
        try:
            callback_hours = CallbackHours.parse(str(data["callback_hours"]))
        except CallbackHoursError as error:
            check.add("callback_hours", str(error))

    contact = Contact("", "")
    raw_contact = data.get("contact")
    if not isinstance(raw_contact, dict):
        check.add("contact", "must be a mapping with phone and email")
    else:
        check.unknown_keys(raw_contact, {"phone", "email"}, "contact.")
        contact = Contact(
            check.text(raw_contact, "phone", "contact."),
            check.text(raw_contact, "email", "contact."),
        )
        if contact.email and "@" not in contact.email:
            check.add("contact.email", f"{contact.email!r} is not an email address")

    purposes = _purposes(check, data)
    purpose_ids = tuple(p.id for p in purposes)
    reading = _reading(check, data.get("reading"))
    changes = _changes(check, data.get("changes"), purpose_ids, version)

    study_bytes = source.files[STUDY_FILE]
    texts: dict[str, StudyText] = {}
    for language in languages:
        text_path = source.path(f"{language}.yaml")
        text_raw = source.files.get(f"{language}.yaml")
        if text_raw is None:
            problems.append(
                ContentProblem(
                    text_path, "", f"is missing: study.yaml lists {language!r} in languages"
                )
            )
            continue
        loaded = _load_text(
            text_path, text_raw, language, version, purpose_ids, study_bytes, problems
        )
        if loaded is not None:
            texts[language] = loaded
            warnings.extend(translation_warnings(text_path, loaded, version))
    for name in sorted(source.files):
        stem = name.removesuffix(".yaml")
        if stem not in languages and name != STUDY_FILE:
            problems.append(
                ContentProblem(source.path(name), "", f"{stem!r} is not in study.yaml's languages")
            )

    if default_language in texts:
        for language, text in texts.items():
            if language != default_language:
                _compare_languages(source.folder, texts[default_language], text, problems)
        if changes is not None and texts[default_language].changes is None:
            problems.append(
                ContentProblem(
                    source.path(f"{default_language}.yaml"),
                    "changes",
                    "is missing: study.yaml declares changes, so say what changed and why",
                )
            )

    if len(problems) > before or zone is None:
        return None
    return Study(
        id=str(data["id"]),
        version=version,
        keyword=keyword,
        default_language=default_language,
        languages=tuple(languages),
        timezone=zone,
        cooling_off=CoolingOff(cooling, confirm_within),
        quiet_hours=quiet,
        callback_hours=callback_hours,
        remind_later=remind_later,
        contact=contact,
        purposes=purposes,
        texts=texts,
        warnings=tuple(warnings),
        reading=reading,
        changes=changes,
        files=source,
    )


@dataclass(frozen=True, slots=True)
class LoadedStudy:
    """One study folder as loaded: the study, or the problems that kept it from loading."""

    folder: Path
    study: Study | None
    problems: tuple[ContentProblem, ...]
    """Errors only; a loaded study's warnings are in ``study.warnings``."""


def _placed(problems: list[ContentProblem]) -> list[ContentProblem]:
    """Put each problem on its field's line, so an author goes straight there."""
    lines = LinesCache()
    return [
        problem.at_line(lines(problem.file).line(problem.field))
        if problem.line is None and problem.field
        else problem
        for problem in problems
    ]


def load_each(root: Path) -> list[LoadedStudy]:
    """Load every study under ``root/studies`` on its own, keeping each one's problems.

    A keyword already used by an earlier study (in folder order) is that study's error.
    Each problem is placed on its line when its field is in the file (or its parent is).
    Raises :class:`ContentError` when ``root/studies`` is not a folder.
    """
    studies_dir = root / "studies"
    if not studies_dir.is_dir():
        raise ContentError([ContentProblem(studies_dir, "", "is not a folder of studies")])
    loaded: list[LoadedStudy] = []
    keywords: dict[str, str] = {}
    for folder in sorted(p for p in studies_dir.iterdir() if p.is_dir()):
        problems: list[ContentProblem] = []
        source = read_folder(folder, problems)
        study = _load_study(source, problems) if source is not None else None
        if study is not None and study.keyword in keywords:
            problems.append(
                ContentProblem(
                    folder / "study.yaml",
                    "keyword",
                    f"{study.keyword!r} is already used by study {keywords[study.keyword]!r}",
                )
            )
            study = None
        elif study is not None:
            keywords[study.keyword] = study.id
        loaded.append(LoadedStudy(folder, study, tuple(_placed(problems))))
    return loaded


def load_catalogue(root: Path) -> StudyCatalogue:
    """Load every study under ``root/studies``; raise :class:`ContentError` on any problem."""
    loaded = load_each(root)
    problems = [problem for each in loaded for problem in each.problems]
    if problems:
        raise ContentError(problems)
    return StudyCatalogue({each.study.id: each.study for each in loaded if each.study is not None})
