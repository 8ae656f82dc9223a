"""What each ``consentbot`` sub-command does (argument parsing lives in cli.py)."""

from __future__ import annotations

import asyncio
import sys

from aiohttp import ClientError, ClientSession

from consentbot.content.loader import load_catalogue
from consentbot.domain.provenance import Auth, Channel, Provenance
from consentbot.runtime import load_content, open_runtime
from consentbot.services.clock import system_clock
from consentbot.services.errors import ServiceError
from consentbot.services.unknown_outbox import unknown_messages
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.store.database import Database
from consentbot.store.ledger import verify_ledger
from consentbot.store.phones import PhoneNumberError, to_e164


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
            token = await runtime.tokens.create(study, label)
        except ServiceError as error:
            print(f"consentbot: {error.message}", file=sys.stderr)
            return 1
    print(f"Token for study {study!r}. Store it now: it is not shown again.", file=sys.stderr)
    print(token)
    return 0


async def invite(
    settings: Settings, study: str, phone: str, reference: str, language: str | None
) -> int:
    """Invite one person, then send the invitation unless quiet hours hold it."""
    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        try:
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


async def audit_verify(settings: Settings) -> int:
    """Check every participant's hash chain."""
    if settings.is_embedded:
        migrate.upgrade(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            checked, fault = await verify_ledger(session)
    finally:
        await db.dispose()
    if fault is not None:
        print(f"ledger broken at {fault}", file=sys.stderr)
        return 1
    print(f"ledger intact: {checked} events checked")
    return 0


async def outbox_unknown(settings: Settings) -> int:
    """List messages in "unknown": never their number or text."""
    if settings.is_embedded:
        migrate.upgrade(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    try:
        messages = await unknown_messages(db)
    finally:
        await db.dispose()
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


def content_check(settings: Settings) -> int:
    """Load every study and print warnings; ContentError is reported by the caller."""
    studies = load_catalogue(settings.content_dir)
    for study in studies.studies.values():
        drafts = [code for code, text in study.texts.items() if text.status == "draft"]
        print(
            f"{study.id} v{study.version}: {', '.join(study.languages)}"
            + (f" (draft: {', '.join(drafts)})" if drafts else "")
        )
        for warning in study.warnings:
            print(f"  warning: {warning}")
    return 0


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
