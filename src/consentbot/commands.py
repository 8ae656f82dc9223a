"""What each ``consentbot`` sub-command does (argument parsing lives in cli.py)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import ClientError, ClientSession

from consentbot.content.check import check_content
from consentbot.content.loader import load_catalogue, load_study
from consentbot.content.model import Study, StudyCatalogue
from consentbot.content.problems import ContentError
from consentbot.content.report import exit_code, render_json, render_text
from consentbot.content.sms_cost import Sending, sample_link
from consentbot.conversation.walkthrough import WalkthroughError
from consentbot.domain.checkpoint import (
    Checkpoint,
    CheckpointError,
    decode_public_key,
    public_key_text,
)
from consentbot.domain.checkpoint import parse as parse_checkpoint
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.runtime import (
    demo_catalogue,
    load_content,
    open_runtime,
    open_vault,
    require_published,
)
from consentbot.services.audit import LedgerAudit, LedgerBroken
from consentbot.services.checkpoints import write_checkpoint
from consentbot.services.clock import system_clock
from consentbot.services.errors import ServiceError
from consentbot.services.key_rotation import DEFAULT_BATCH, KeyRotation
from consentbot.services.preview import (
    preview_walk,
    render_sms_preview,
    sms_preview,
)
from consentbot.services.publishing import PublishOutcome, PublishRefused
from consentbot.services.served_versions import unpublished_edits
from consentbot.services.unknown_outbox import unknown_messages
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.store.crypto import PhoneVault
from consentbot.store.database import Database
from consentbot.store.phones import PhoneNumberError, to_e164
from consentbot.store.rekeying import CONTACT_PHONES, OUTBOX_SECRETS, VERIFICATION_PHONES, KeyCount
from consentbot.store.signing_key import existing_signing_key, signing_key
from consentbot.terminal_table import moment
from consentbot.web.preview import render_preview_page


def db_upgrade(settings: Settings) -> int:
    """Apply migrations."""
    migrate.upgrade(settings.effective_database_url)
    print("database is up to date")
    return 0


async def token_create(settings: Settings, study: str, label: str) -> int:
    """Create a token; print it on the last line (scripts read that line)."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        try:
            require_published(content, study)
            token = await runtime.tokens.create(study, label)
        except ServiceError as error:
            print(f"consentbot: {error.message}", file=sys.stderr)
            return 1
    print(f"Token for study {study!r}. Store it now: it is not shown again.", file=sys.stderr)
    print(token)
    return 0


async def token_list(settings: Settings) -> int:
    """Print every token as a table: id, study, label, created, revoked. Never the token."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        tokens = await runtime.tokens.list()
    if not tokens:
        print("no tokens yet: create one with `consentbot token create --study <id>`")
        return 0
    rows = [("id", "study", "label", "created", "revoked")]
    rows += [
        (str(t.id), t.study, t.label or "-", moment(t.created), moment(t.revoked)) for t in tokens
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


async def token_revoke(settings: Settings, token_id: int) -> int:
    """Revoke one token; an unknown or already revoked id is an error (exit 1)."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        try:
            revoked = await runtime.tokens.revoke(token_id)
        except ServiceError as error:
            print(f"consentbot: {error.message}", file=sys.stderr)
            return 1
    label = f" ({revoked.label})" if revoked.label else ""
    print(f"token {revoked.id}{label} for study {revoked.study!r} revoked")
    return 0


async def invite(
    settings: Settings, study: str, phone: str, reference: str, language: str | None
) -> int:
    """Invite one person, then send the invitation unless quiet hours hold it."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        try:
            require_published(content, study)
            result = await runtime.invitations.invite(
                study,
                phone=phone,
                reference=reference,
                language=language,
                provenance=Provenance(Channel.CLI, "staff", Auth.SYSTEM),
            )
        except ServiceError as error:
            where = f"{error.field}: " if error.field else ""
            print(f"consentbot: {where}{error.message}", file=sys.stderr)
            return 1
        sent = await runtime.dispatcher.dispatch_once()
    state = "invited" if result.created else "was already invited"
    note = " (the number has sent STOP: no message was sent)" if result.messages_stopped else ""
    held = (
        ""
        if sent or result.messages_stopped or not result.created
        else " (held until quiet hours end; a running server sends it)"
    )
    print(f"{reference} {state} to {study} in {result.language}{note}{held}")
    return 0


async def participant_erase(settings: Settings, study: str, reference: str) -> int:
    """Serve a verified deletion request; erasing again says so and changes nothing."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        try:
            require_published(content, study)
            done = await runtime.erasure.erase(study, reference)
        except ServiceError as error:
            where = f"--{error.field}: " if error.field else ""
            print(f"consentbot: {where}{error.message}", file=sys.stderr)
            return 1
    if done.already:
        print(
            f"{reference} in {study} was already erased at {moment(done.erased_at)}: "
            "nothing changed"
        )
        return 0
    number = (
        "phone number removed"
        if done.number_removed
        else "phone number kept: another study's participant still uses it"
    )
    print(
        f"{reference} erased from {study}: {done.events} purposes withdrawn "
        f"(no-further-use-and-removal), conversation text deleted, {number}"
    )
    return 0


async def audit_verify(
    settings: Settings, checkpoint_file: Path | None = None, public_key: str | None = None
) -> int:
    """Check chains, rules and projection, and the ledger against a checkpoint if given."""
    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = _read_checkpoint(settings, checkpoint_file, public_key)
        except _CommandFailed as failed:
            print(f"consentbot: {failed}", file=sys.stderr)
            return failed.code
    studies = load_catalogue(settings.content_dir)
    if settings.demo:
        studies = demo_catalogue(studies, cooling_off=settings.demo_cooling_off)
    async with _database(settings) as db:
        report = await LedgerAudit(db, studies).verify(checkpoint)
    for finding in report.findings:
        print(finding, file=sys.stderr)
    checked = f"{report.events} events checked ({report.participants} participants)"
    if report.access_records:
        checked += f" and {report.access_records} access records"
    if report.faults:
        print(f"ledger broken: {len(report.faults)} faults in {checked}", file=sys.stderr)
        return 1
    matched = (
        f"; it matches the checkpoint of {checkpoint.taken} "
        f"({len(checkpoint.participants)} participants, {checkpoint.event_count} events)"
        if checkpoint
        else ""
    )
    print(f"ledger intact: {checked}{matched}")
    return 0


class _CommandFailed(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _read_checkpoint(settings: Settings, path: Path, public_key: str | None) -> Checkpoint:
    if public_key is not None:
        try:
            trusted = decode_public_key(public_key)
        except CheckpointError as error:
            raise _CommandFailed(f"--public-key: {error}", code=2) from error
    else:
        key = existing_signing_key(settings.audit_signing_key, settings.data_dir)
        if key is None:
            raise _CommandFailed(
                "no key to check the checkpoint against: set CONSENTBOT_AUDIT_SIGNING_KEY "
                "or give --public-key (what consentbot audit public-key printed)"
            )
        trusted = key.public_key()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _CommandFailed(f"cannot read the checkpoint {path}: {error}") from error
    try:
        return parse_checkpoint(text, trusted)
    except CheckpointError as error:
        raise _CommandFailed(f"checkpoint {path}: {error}") from error


async def audit_checkpoint(
    settings: Settings, out: Path | None, extends_file: Path | None = None
) -> int:
    """Sign a checkpoint of every participant's ledger; write it to ``out`` or stdout.

    With ``extends_file`` (the previous checkpoint) it is refused if anything that
    one covers has changed since.
    """
    key = signing_key(settings.audit_signing_key, settings.data_dir)
    extends = None
    if extends_file is not None:
        try:
            extends = _read_checkpoint(settings, extends_file, None)
        except _CommandFailed as failed:
            print(f"consentbot: --extends: {failed}", file=sys.stderr)
            return failed.code
    try:
        async with _database(settings) as db:
            audit = LedgerAudit(db, StudyCatalogue({}))
            checkpoint = await audit.checkpoint(key, system_clock(), extends=extends)
    except LedgerBroken as error:
        for fault in error.faults:
            print(fault, file=sys.stderr)
        print("consentbot: not signed: the ledger is broken or was rewritten", file=sys.stderr)
        return 1
    summary = (
        f"checkpoint of {len(checkpoint.participants)} participants and "
        f"{checkpoint.event_count} events, root {checkpoint.root}"
    )
    if out is None:
        sys.stdout.write(checkpoint.render())
        print(summary, file=sys.stderr)
        return 0
    try:
        write_checkpoint(out, checkpoint)
    except OSError as error:
        print(f"consentbot: --out {out}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"{summary} written to {out}", file=sys.stderr)
    return 0


def audit_public_key(settings: Settings) -> int:
    """Print the public half of the checkpoint signing key (generated if there is none)."""
    key = signing_key(settings.audit_signing_key, settings.data_dir)
    print(public_key_text(key.public_key()))
    return 0


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    """The configured database for a command that opens no runtime (the embedded default
    migrated first, as ``serve`` does), disposed of on the way out."""
    if settings.is_embedded:
        await asyncio.to_thread(migrate.upgrade, settings.effective_database_url)
    db = Database(settings.effective_database_url)
    try:
        yield db
    finally:
        await db.dispose()


async def outbox_unknown(settings: Settings) -> int:
    """List messages in "unknown": never their number or text."""
    async with _database(settings) as db:
        messages = await unknown_messages(db)
    if not messages:
        print("no messages in unknown state")
        return 0
    rows = [("id", "reference", "kind", "study", "participant", "created", "claimed")]
    rows += [
        (
            str(m.id),
            m.reference,
            m.kind.value,
            m.study or "-",
            m.participant or "-",
            m.created_at.isoformat(timespec="seconds"),
            m.claimed_at.isoformat(timespec="seconds") if m.claimed_at else "-",
        )
        for m in messages
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(
        f"{len(messages)} message(s) may or may not have reached the person; none is resent. "
        "See docs/architecture.md.",
        file=sys.stderr,
    )
    return 0


async def content_check(settings: Settings, root: Path, study: str | None, output: str) -> int:
    """Run every content check; print the reports as text or JSON; 1 on any error.

    Files edited under a version already published are an error too: the database says
    what was published. Where there is no database yet, nothing was published.
    """
    sending = Sending.load(
        settings.locales_dir, settings.public_url, settings.max_segments, settings.default_region
    )
    reports = check_content(root, study, sending)
    if settings.database_url or (settings.data_dir / "consentbot.db").exists():
        loaded = {s.id: s for s in (_loaded_study(root, r.id) for r in reports) if s is not None}
        async with _database(settings) as db:
            edits = await unpublished_edits(db, StudyCatalogue(loaded))
        for report in reports:
            for problem in edits:
                if problem.file.parent.name == report.id:
                    report.add(problem)
    print(render_json(reports) if output == "json" else render_text(reports))
    return exit_code(reports)


def _loaded_study(root: Path, study_id: str) -> Study | None:
    """The study as its folder holds it, when it loads (its errors are in its report)."""
    try:
        return load_study(root / "studies" / study_id)
    except ContentError:
        return None


async def content_publish(settings: Settings, study: str, by: str, dry_run: bool) -> int:
    """Publish one study's files as a version; exit 1, storing nothing, if it is refused."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        try:
            result = await runtime.publishing.publish(study, by, dry_run=dry_run)
        except PublishRefused as refused:
            print(f"consentbot: {refused}", file=sys.stderr)
            return 1
    for warning in result.warnings:
        print(f"  warning: {warning}")
    name = f"{result.study_id} version {result.version}"
    previous = (
        f" (newest published: version {result.previous_version})"
        if result.previous_version is not None
        else " (its first published version)"
    )
    match result.outcome:
        case PublishOutcome.ALREADY_PUBLISHED:
            print(
                f"{name} is already published with these files "
                f"(by {result.published_by} at {moment(result.published_at)}): nothing changed"
            )
        case PublishOutcome.WOULD_PUBLISH:
            print(f"dry run: {name} would be published{previous}; nothing was stored")
            print(f"  content hash: {result.content_hash}")
        case PublishOutcome.PUBLISHED:
            print(f"{name} published{previous}")
            print(f"  content hash: {result.content_hash}")
            print(f"  by: {result.published_by}")
            print(f"  at: {moment(result.published_at)}")
            print("  a running service serves it within 10 seconds")
    if result.after_publish is not None:
        print(result.after_publish)
    if result.change_unfinished:
        print(
            "consentbot: the version is published, but its change did not reach everyone "
            "(see the log): the running service reaches the rest within 10 seconds, or "
            "when it next starts; nobody is asked twice",
            file=sys.stderr,
        )
        return 1
    return 0


def content_preview(settings: Settings, study_id: str, language: str, html: Path | None) -> int:
    """Print a study's conversation as SMS; with ``html``, also write its web page there.

    Reads the content as ``serve`` would and nothing else: no database, nothing sent.
    An unknown study or language is a usage error (exit 2); nothing is printed or written.
    """
    content = load_content(settings)
    study = content.studies.get(study_id)
    if study is None:
        known = ", ".join(sorted(content.studies.studies)) or "none"
        print(
            f"consentbot: --study: there is no study {study_id!r} in {settings.content_dir} "
            f"(the studies: {known})",
            file=sys.stderr,
        )
        return 2
    if language not in study.languages:
        print(
            f"consentbot: --lang: {study.id} is not written in {language!r} "
            f"(its languages: {', '.join(study.languages)})",
            file=sys.stderr,
        )
        return 2
    # The personal link an invitation carries, with a made-up token; none without a public URL.
    link = sample_link(settings.public_url) if settings.public_url else None
    try:
        journey = preview_walk(study, language, content.lexicon, link)
    except WalkthroughError as error:
        print(f"consentbot: the conversation could not be previewed: {error}", file=sys.stderr)
        return 1
    transcript = render_sms_preview(
        sms_preview(study, language, journey, max_segments=settings.max_segments, link=link)
    )
    if html is not None:
        page = render_preview_page(study, language, content.lexicon, journey, settings.sms_regions)
        try:
            _write_whole(html, page)
        except OSError as error:
            print(f"consentbot: --html {html}: {error.strerror or error}", file=sys.stderr)
            return 1
    sys.stdout.write(transcript)
    if html is not None:
        print(f"web page written to {html}", file=sys.stderr)
    return 0


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: never a half-written file."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


async def chat(url: str, phone: str, region: str) -> int:
    """Text a running console-gateway server from the terminal; show replies as they arrive."""
    try:
        e164 = to_e164(phone, region)
    except PhoneNumberError as error:
        print(f"consentbot: --phone {error}", file=sys.stderr)
        return 2
    async with ClientSession() as session:
        try:
            seen = await _console_messages(session, url, e164, after=None)
        except ClientError as error:
            print(f"consentbot: cannot reach {url}: {error}", file=sys.stderr)
            return 1
        print(f"Texting {url} as {e164}. Type a message and press Enter; Ctrl-D to leave.")
        print("Try the study keyword JOINTS.")
        poller = asyncio.create_task(_show_arrivals(session, url, e164, seen))
        try:
            while line := await asyncio.to_thread(sys.stdin.readline):
                if line.strip():
                    form = {"From": e164, "Body": line.strip()}
                    async with session.post(f"{url}/sms/console/inbound", data=form) as response:
                        response.raise_for_status()
        finally:
            poller.cancel()
    return 0


async def _console_messages(session: ClientSession, url: str, phone: str, after: int | None) -> int:
    """Print messages after ``after`` (None: print nothing) and return the next index."""
    params = {"phone": phone, "after": str(after or 0)}
    async with session.get(f"{url}/sms/console/messages", params=params) as response:
        response.raise_for_status()
        data = await response.json()
    if after is not None:
        for text in data["messages"]:
            print(f"\n{text}\n", flush=True)
    next_index: int = data["next"]
    return next_index


async def _show_arrivals(session: ClientSession, url: str, phone: str, seen: int) -> None:
    while True:
        await asyncio.sleep(0.3)
        try:
            seen = await _console_messages(session, url, phone, seen)
        except ClientError:
            continue


async def keys_status(settings: Settings) -> int:
    """Print how many rows are under each key id, and whether an old key is still needed."""
    async with _key_rotation(settings, DEFAULT_BATCH) as rotation:
        counts = await rotation.status()
    _print_key_status(rotation.vault, counts)
    return 0


async def keys_rotate(settings: Settings, batch_size: int) -> int:
    """Rewrite every row not under the current key; exit 1 if some had to be left."""
    async with _key_rotation(settings, batch_size) as rotation:
        report = await rotation.rotate()
        counts = await rotation.status()
    done = ", ".join(f"{column} {rows}" for column, rows in report.rewritten.items())
    print(f"rewritten under key {rotation.vault.current_key_id}: {done}")
    for problem in report.problems:
        print(f"consentbot: left as it was: {problem}", file=sys.stderr)
    _print_key_status(rotation.vault, counts)
    return 1 if report.problems else 0


@asynccontextmanager
async def _key_rotation(settings: Settings, batch_size: int) -> AsyncIterator[KeyRotation]:
    vault = open_vault(settings)
    async with _database(settings) as db:
        yield KeyRotation(db, vault, batch_size=batch_size)


def _print_key_status(vault: PhoneVault, counts: list[KeyCount]) -> None:
    previous = vault.key_ids[1:]
    print(f"current key: {vault.current_key_id}; previous: {', '.join(previous) or 'none'}")

    def label(key_id: str | None) -> str:
        if key_id is None:
            return "from before key ids"
        if key_id == vault.current_key_id:
            return f"{key_id} (current)"
        return f"{key_id} ({'previous' if key_id in previous else 'NOT CONFIGURED'})"

    for column in (CONTACT_PHONES, VERIFICATION_PHONES, OUTBOX_SECRETS):
        here = [count for count in counts if count.column == column]
        held = ", ".join(f"{count.rows} under {label(count.key_id)}" for count in here)
        print(f"  {column}: {held or 'nothing stored'}")
    old = sum(count.rows for count in counts if count.key_id != vault.current_key_id)
    if old:
        print(f"{old} rows are not under the current key: run `consentbot keys rotate`.")
    elif previous:
        print(
            "Nothing is stored under an old key: the previous keys can be removed "
            "(CONSENTBOT_PREVIOUS_SECRET_KEYS or secret.previous), then restart."
        )
    else:
        print("Everything is under the current key.")
