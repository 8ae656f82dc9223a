"""What the printable explanation shows: a published version's text, and a person's choices.

The text comes from the published versions (what people were actually shown), never from
the files on disk, so a printed page for version ``n`` is exactly version ``n``. A staff
member's view of a person's choices is written to the access log in the same transaction
as it is read: no view without its log entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from consentbot.content.files import STUDY_FILE, StudyFiles
from consentbot.content.loader import load_study_files
from consentbot.content.model import Study
from consentbot.domain.staff import AccessReason
from consentbot.domain.status import ConsentStatus
from consentbot.services.errors import ServiceError, UnknownParticipant
from consentbot.services.staff_access_log import StaffAccessLog, record_access
from consentbot.services.versions import PublishedVersions, UnknownVersion
from consentbot.store.participants import ParticipantRepository
from consentbot.store.published import stored_label


class UnknownLanguage(ServiceError):
    """The study's version is not written in that language."""


@dataclass(frozen=True, slots=True)
class PrintedStudy:
    """One published version of a study, loaded, and the language to print it in."""

    study: Study
    language: str


@dataclass(frozen=True, slots=True)
class PersonChoices:
    """A participant's current status for each purpose of their study (never answered: none)."""

    reference: str
    language: str
    """The language the person reads: their page is printed in it unless staff ask otherwise."""
    statuses: dict[str, ConsentStatus]


async def printed_study(
    versions: PublishedVersions, study_id: str, version: str | None, language: str | None
) -> PrintedStudy:
    """Version ``version`` of ``study_id`` (the newest published when None) in ``language``
    (the study's default when None).

    Raises :class:`UnknownStudy`, :class:`UnknownVersion`, :class:`DamagedVersion` and
    :class:`UnknownLanguage`.
    """
    if version is None:
        published = await versions.list(study_id)
        if not published:
            raise UnknownVersion(f"study {study_id!r} has no published version", field="version")
        version = str(published[-1].version)
    files = await versions.get(study_id, version)
    texts = {STUDY_FILE: files.study} | {
        f"{code}.yaml": text for code, text in files.languages.items()
    }
    label = stored_label(study_id, files.summary.version)
    study = load_study_files(StudyFiles.from_texts(study_id, label, texts))
    chosen = language if language is not None else study.default_language
    if chosen not in study.languages:
        raise UnknownLanguage(
            f"version {study.version} of study {study_id!r} is not written in {chosen!r}; "
            f"it is in {', '.join(study.languages)}",
            field="lang",
        )
    return PrintedStudy(study, chosen)


async def choices_for_print(
    access: StaffAccessLog, staff_user_id: int, study: Study, reference: str
) -> PersonChoices:
    """``reference``'s current choices in ``study``, logged as viewed by ``staff_user_id`` to
    print them (raises :class:`UnknownParticipant`)."""
    async with access.db.transaction() as session:
        participant = await ParticipantRepository(session).by_reference(study.id, reference)
        if participant is None or participant.id is None:
            raise UnknownParticipant(f"no participant {reference!r} in study {study.id!r}")
        record_access(session, staff_user_id, participant.id, AccessReason.PRINT, access.clock())
        states = {
            state.purpose_id: ConsentStatus(state.status)
            for state in await ParticipantRepository(session).consent(participant.id)
        }
    statuses = {
        purpose_id: states.get(purpose_id, ConsentStatus.NONE) for purpose_id in study.purpose_ids
    }
    return PersonChoices(reference, participant.language, statuses)
