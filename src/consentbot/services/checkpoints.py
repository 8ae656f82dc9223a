"""Checkpoint files, and the task inside ``consentbot serve`` that writes one every so often.

Files are named by the UTC time they were taken (``checkpoint-20261202T100000Z.json``),
so after a restart the next one is due ``every`` after the newest in the folder. Each
new checkpoint extends the newest: it is refused if the ledger no longer matches it,
so tampering between two checkpoints is never signed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentbot.content.live import Studies
from consentbot.domain.checkpoint import Checkpoint, CheckpointError, parse
from consentbot.services.audit import AccessFinding, AuditFinding, LedgerAudit, LedgerBroken
from consentbot.services.clock import Clock
from consentbot.settings import Settings
from consentbot.store.database import Database
from consentbot.store.signing_key import signing_key

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^checkpoint-(\d{8}T\d{6}Z)\.json$")
_STAMP = "%Y%m%dT%H%M%SZ"
RETRY_AFTER = timedelta(minutes=5)
"""After a failure (database unreachable, disk full), try again this much later at most."""


def file_name(taken: datetime) -> str:
    """The name of a checkpoint taken at ``taken``."""
    return f"checkpoint-{taken.astimezone(UTC):{_STAMP}}.json"


def newest_checkpoint(folder: Path) -> tuple[datetime, Path] | None:
    """The newest checkpoint file in ``folder``, and when it was taken (read from its name)."""
    if not folder.is_dir():
        return None
    found = [
        (datetime.strptime(match[1], _STAMP).replace(tzinfo=UTC), path)
        for path in folder.iterdir()
        if (match := _NAME.match(path.name))
    ]
    return max(found, default=None)


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Write the file whole or not at all: a reader never sees half a checkpoint."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(checkpoint.render())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[bool]:
    """Try to hold the folder's lock (flock on the folder itself) without waiting; yield
    whether it is held.

    ``serve --workers N`` runs a schedule in every worker: the one holding the lock
    writes, the others find the new file when they look again, so each period has one
    checkpoint, which extends the one before. The kernel drops the lock if the process
    dies, so a crash never leaves the folder locked, and no lock file is left among the
    checkpoints.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class CheckpointSchedule:
    """Writes a checkpoint into ``folder`` whenever one is due."""

    def __init__(
        self,
        audit: LedgerAudit,
        key: Ed25519PrivateKey,
        folder: Path,
        every: timedelta,
        clock: Clock,
    ) -> None:
        self.audit = audit
        self.key = key
        self.folder = folder
        self.every = every
        self.clock = clock
        self.written = 0
        """Checkpoints written since the service started."""
        self._due: datetime | None = None
        self._change = asyncio.Condition()

    def due(self) -> datetime:
        """When the next checkpoint is due: ``every`` after the newest, or now if none."""
        if self._due is None:
            newest = newest_checkpoint(self.folder)
            self._due = newest[0] + self.every if newest is not None else self.clock()
        return self._due

    async def run_due(self) -> Path | None:
        """Write a checkpoint if one is due; return its path.

        A ledger with a broken chain is not signed: that is logged as an error (verify
        names the events) and tried again ``every`` later.
        """
        if self.clock() < self.due():
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        with folder_lock(self.folder) as held:
            if not held:
                return None  # another worker is writing this period's checkpoint
            now = self.clock()
            newest = newest_checkpoint(self.folder)
            if newest is not None and now < newest[0] + self.every:
                # Another worker wrote this period's since this process last looked.
                self._due = newest[0] + self.every
                return None
            return await self._write(now)

    async def _write(self, now: datetime) -> Path | None:
        try:
            checkpoint = await self.audit.checkpoint(self.key, now, extends=self._previous())
        except LedgerBroken as error:
            self._due = now + self.every
            log.error(
                "audit.checkpoint_refused",
                reason="the ledger is broken or was rewritten: run consentbot audit verify",
                participants=sorted(
                    {f.participant_id for f in error.faults if isinstance(f, AuditFinding)}
                ),
                access_studies=sorted(
                    {f.study for f in error.faults if isinstance(f, AccessFinding)}
                ),
            )
            return None
        path = self.folder / file_name(checkpoint.created_at)
        write_checkpoint(path, checkpoint)
        self._due = checkpoint.created_at + self.every
        log.info(
            "audit.checkpoint_written",
            file=path.name,
            participants=len(checkpoint.participants),
            events=checkpoint.event_count,
            access_records=sum(entry.records for entry in checkpoint.accesses),
            root=checkpoint.root,
        )
        async with self._change:
            self.written += 1
            self._change.notify_all()
        return path

    def _previous(self) -> Checkpoint | None:
        """The newest checkpoint here, which the next must extend; None if there is none."""
        newest = newest_checkpoint(self.folder)
        if newest is None:
            return None
        try:
            return parse(newest[1].read_text(encoding="utf-8"), self.key.public_key())
        except (OSError, UnicodeDecodeError, CheckpointError) as error:
            # Refusing would end checkpoints until someone notices; say it loudly instead.
            log.warning("audit.checkpoint_not_chained", previous=newest[1].name, problem=str(error))
            return None

    async def wait_written(self, count: int = 1) -> None:
        """Wait until ``count`` checkpoints have been written since start."""
        async with self._change:
            await self._change.wait_for(lambda: self.written >= count)

    async def run(self, interval: float) -> None:
        """Check every ``interval`` seconds whether one is due, until cancelled."""
        while True:
            try:
                await self.run_due()
            except Exception:
                # The next attempt must not wait a whole day, nor hammer a sick database.
                self._due = self.clock() + min(self.every, RETRY_AFTER)
                log.exception("audit.checkpoint_failed")
            await asyncio.sleep(interval)


def checkpoint_schedule(
    settings: Settings, db: Database, studies: Studies, clock: Clock
) -> CheckpointSchedule | None:
    """The schedule ``serve`` runs, or None when CONSENTBOT_AUDIT_CHECKPOINT_DIR is unset."""
    if settings.audit_checkpoint_dir is None:
        return None
    return CheckpointSchedule(
        LedgerAudit(db, studies),
        signing_key(settings.audit_signing_key, settings.data_dir),
        settings.audit_checkpoint_dir,
        settings.audit_checkpoint_every,
        clock,
    )
