"""A study's files as bytes: read from its folder, or from a stored published version.

The loader checks a :class:`StudyFiles` the same way wherever it came from, so a study
loaded from the database has exactly the digests it had when loaded from its folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from consentbot.content.problems import ContentProblem

STUDY_FILE = "study.yaml"
"""The study's settings; every other file is ``<lang>.yaml``."""


@dataclass(frozen=True)
class StudyFiles:
    """Every ``*.yaml`` file of one study, by file name, exactly as written."""

    study_id: str
    """The study these files must describe (the folder name)."""
    folder: Path
    """Where the files are, or a label for stored ones: problems name ``folder / name``."""
    files: Mapping[str, bytes]

    def path(self, name: str) -> Path:
        """The file called ``name``, for messages."""
        return self.folder / name

    @property
    def content_hash(self) -> str:
        """SHA-256 over every file's name and bytes, in name order.

        Each file adds ``name``, a NUL, its length as 8 bytes big-endian, and its bytes,
        so no two different sets of files hash alike by moving bytes between them.
        """
        digest = hashlib.sha256()
        for name in sorted(self.files):
            data = self.files[name]
            digest.update(name.encode("utf-8") + b"\0" + len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()

    def texts(self) -> dict[str, str]:
        """The files as text (raises UnicodeDecodeError on a file that is not UTF-8)."""
        return {name: data.decode("utf-8") for name, data in sorted(self.files.items())}

    @classmethod
    def from_texts(cls, study_id: str, folder: Path, texts: Mapping[str, str]) -> StudyFiles:
        """Files stored as text (UTF-8, as they were read)."""
        return cls(study_id, folder, {name: text.encode("utf-8") for name, text in texts.items()})

    def differences(self, other: StudyFiles) -> list[tuple[str, str]]:
        """``(file name, how it differs from other)`` for every file that is not identical."""
        found: list[tuple[str, str]] = []
        for name in sorted(set(self.files) | set(other.files)):
            if name not in other.files:
                found.append((name, "is new"))
            elif name not in self.files:
                found.append((name, "was removed"))
            elif self.files[name] != other.files[name]:
                found.append((name, "was changed"))
        return found


def read_folder(folder: Path, problems: list[ContentProblem]) -> StudyFiles | None:
    """Read every ``*.yaml`` file in ``folder``; None (with a problem) if one cannot be read."""
    files: dict[str, bytes] = {}
    failed = False
    for path in sorted(folder.glob("*.yaml")):
        if not path.is_file():
            continue
        try:
            files[path.name] = path.read_bytes()
        except OSError as error:
            problems.append(ContentProblem(path, "", f"cannot be read: {error.strerror}"))
            failed = True
    return None if failed else StudyFiles(folder.name, folder, files)
