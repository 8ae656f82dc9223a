"""The ``consentbot`` command: serve, db, token, invite, announce, participant erase, audit,
receipt, keys, outbox, content, chat, user, webhook."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from consentbot import webhook_command
from consentbot.content.problems import ContentError
from consentbot.logging import configure_logging
from consentbot.settings import Settings, SettingsError
from consentbot.store.crypto import SecretKeyError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="consentbot",
        description="Consent conversations for health-data research. Settings come from "
        "CONSENTBOT_* environment variables (see docs/configuration.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service (HTTP, scheduler, outbox)")
    serve.add_argument("--host", help="address to listen on (CONSENTBOT_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (CONSENTBOT_PORT, default 8080)")
    serve.add_argument(
        "--workers",
        type=_at_least_one,
        help="processes serving the one port (CONSENTBOT_WORKERS, default 1; more needs "
        "PostgreSQL, see docs/scaling.md)",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="console gateway only: one-minute cooling-off so you can try the whole journey",
    )

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations up to the latest")

    token = commands.add_parser("token", help="API tokens for research systems")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token (printed on the last line)")
    create.add_argument("--study", required=True, help="the study the token may use")
    create.add_argument("--label", default="", help="a note saying who holds it")
    token_commands.add_parser(
        "list", help="every token: id, study, label, created, revoked (never the token)"
    )
    revoke = token_commands.add_parser("revoke", help="revoke a token: the API refuses it at once")
    revoke.add_argument("id", type=int, help="the token's id, as `token list` shows it")

    invite = commands.add_parser(
        "invite",
        help="invite a person (--phone, --reference) or a cohort (--file) to a study by SMS",
    )
    invite.add_argument("--study", required=True)
    who = invite.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="one person's mobile number (with --reference)")
    who.add_argument(
        "--file",
        type=Path,
        help="a UTF-8 CSV with the header phone,reference[,language]: every row is checked "
        "first, then all are invited at CONSENTBOT_SEND_RATE; run again to resume",
    )
    invite.add_argument("--reference", help="your reference for the participant (with --phone)")
    invite.add_argument("--language", help="language code, e.g. pl (default: the study's)")

    announce = commands.add_parser(
        "announce",
        help="send news or results to everyone whose 'updates' is active, in their language "
        "(docs/announcements.md)",
    )
    announce.add_argument("--study", required=True)
    announce.add_argument(
        "--file",
        type=Path,
        required=True,
        help="a YAML file: id (e.g. results-2027-01) and texts, one per language of the "
        "study; checked first; run again to resume",
    )
    announce.add_argument(
        "--dry-run",
        action="store_true",
        help="print who would get it per language and what each message costs; send nothing",
    )

    participant = commands.add_parser("participant", help="one participant of a study")
    participant_commands = participant.add_subparsers(dest="participant_command", required=True)
    erase = participant_commands.add_parser(
        "erase",
        help="serve a verified deletion request: withdraw every purpose with removal, "
        "delete their conversation text and, unless another study uses it, their number",
    )
    erase.add_argument("--study", required=True)
    erase.add_argument("--reference", required=True, help="the participant's reference")

    audit = commands.add_parser("audit", help="the consent ledger")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check chains, consent rules and projection; exit 1 naming every fault"
    )
    verify.add_argument(
        "--checkpoint", type=Path, help="also check nothing it covers was changed or removed"
    )
    verify.add_argument(
        "--public-key", help="the key the checkpoint must be signed by (base64; default: ours)"
    )
    checkpoint = audit_commands.add_parser(
        "checkpoint", help="sign every participant's event count and head hash (keep it elsewhere)"
    )
    checkpoint.add_argument("--out", type=Path, help="write it here (default: stdout)")
    checkpoint.add_argument(
        "--extends", type=Path, help="the previous checkpoint: refuse if it no longer matches"
    )
    audit_commands.add_parser("public-key", help="print the checkpoint signing key's public half")

    receipt = commands.add_parser("receipt", help="signed consent receipts (docs/receipts.md)")
    receipt_commands = receipt.add_subparsers(dest="receipt_command", required=True)
    receipt_verify = receipt_commands.add_parser(
        "verify", help="check a receipt's signature and structure; exit 0 if valid, 1 if not"
    )
    receipt_verify.add_argument("file", type=Path, help="the receipt (JSON, as downloaded)")
    receipt_verify.add_argument(
        "--public-key",
        help="the audit key's public half (base64, or a file holding it) to check offline "
        "(default: this service's key)",
    )

    keys = commands.add_parser("keys", help="the secret key: status and rotation (docs/keys.md)")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser("status", help="how many rows are under each key id")
    rotate = keys_commands.add_parser(
        "rotate", help="rewrite everything under the current key (safe while serving)"
    )
    rotate.add_argument(
        "--batch-size", type=_at_least_one, default=500, help="rows per transaction (default 500)"
    )

    outbox = commands.add_parser("outbox", help="messages waiting, sent or stuck")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    outbox_commands.add_parser(
        "unknown",
        help="list messages that may or may not have gone (stuck in sending after a crash)",
    )

    content = commands.add_parser("content", help="study content")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser(
        "check",
        help="check every study: schema, coverage, plain language, SMS cost, translations; "
        "exit 1 on any error, 0 with warnings only (docs/content-format.md)",
    )
    check.add_argument(
        "dir",
        nargs="?",
        type=Path,
        help="the content folder, holding studies/ (default: CONSENTBOT_CONTENT_DIR)",
    )
    check.add_argument("--study", help="check only this study (its id)")
    check.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default): one line per problem; json: for tools and CI",
    )
    publish = content_commands.add_parser(
        "publish",
        help="check a study and store it as a published version: what serve serves "
        "(docs/content-format.md)",
    )
    publish.add_argument("--study", required=True, help="the study's id (its folder name)")
    publish.add_argument("--by", required=True, help="who publishes it (kept with the version)")
    publish.add_argument(
        "--dry-run", action="store_true", help="say what would happen; store nothing"
    )
    preview = content_commands.add_parser(
        "preview",
        help="show a study's whole conversation as SMS (encodings, segments), sending nothing",
    )
    preview.add_argument("--study", required=True, help="the study's id")
    preview.add_argument("--lang", required=True, help="one of the study's languages, e.g. ur")
    preview.add_argument(
        "--html", type=Path, help="also write the study's web page, as a participant sees it"
    )

    _user_parser(commands)
    webhook_command.add_parser(commands)

    chat = commands.add_parser(
        "chat", help="be a patient on the console gateway of a running server"
    )
    chat.add_argument("--phone", default="+447700900123", help="the number you are texting from")
    chat.add_argument("--url", default="http://127.0.0.1:8080", help="the running service")
    return parser


def _user_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from consentbot.domain.staff import StaffRole

    user = commands.add_parser("user", help="staff accounts (docs/staff.md)")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser(
        "add", help="add a staff account; prints a one-time link to set its password"
    )
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, type=StaffRole, choices=list(StaffRole))
    add.add_argument(
        "--study", action="append", default=[], help="a study_team's study (repeat for more)"
    )
    add.add_argument("--org", help="a community_worker's organisation")
    disable = user_commands.add_parser(
        "disable", help="disable an account: its sessions are refused at once"
    )
    disable.add_argument("--email", required=True)
    reset = user_commands.add_parser(
        "reset",
        help="a forgotten or exposed password: the old one stops working, a new one-time "
        "link is printed on the last line",
    )
    reset.add_argument("--email", required=True)
    reset.add_argument(
        "--totp",
        action="store_true",
        help="also remove the authenticator (lost phone): set up again at the next login",
    )
    user_commands.add_parser("list", help="every staff account (never a password or secret)")
    access = user_commands.add_parser(
        "access-log", help="the newest staff views of participants: who, when, which, why"
    )
    access.add_argument("--email", help="only this staff member's")
    access.add_argument("--limit", type=_at_least_one, default=100, help="entries (default 100)")


def _at_least_one(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _check_invite(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--phone needs --reference; --file carries references and languages in its columns."""
    if args.file is not None and (args.reference or args.language):
        parser.error("invite --file: the file's columns give each reference and language")
    if args.phone is not None and not args.reference:
        parser.error("invite --phone: --reference is required")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``consentbot`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "invite":
        _check_invite(parser, args)
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            settings = settings.with_(
                host=args.host or settings.host,
                port=args.port or settings.port,
                workers=args.workers or settings.workers,
                demo=settings.demo or args.demo,
            )
        settings.check(serving=args.command == "serve")
    except SettingsError as error:
        print(f"consentbot: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level, serving=args.command == "serve")
    try:
        return _run(args, settings)
    except (ContentError, SecretKeyError) as error:
        print(f"consentbot: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        # Before the commands module: it imports the service, and with it prometheus-client,
        # which chooses between one process's and several processes' metrics on import.
        # The workers must import it only once the supervisor has made their shared folder.
        from consentbot.workers import serve

        return serve(settings)
    from consentbot import commands

    if args.command == "db":
        return commands.db_upgrade(settings)
    if args.command == "token":
        match args.token_command:
            case "list":
                return asyncio.run(commands.token_list(settings))
            case "revoke":
                return asyncio.run(commands.token_revoke(settings, args.id))
            case _:
                return asyncio.run(commands.token_create(settings, args.study, args.label))
    if args.command == "invite" and args.file is not None:
        from consentbot.cohort_command import INTERRUPTED, invite_file

        try:
            return asyncio.run(invite_file(settings, args.study, args.file))
        except KeyboardInterrupt:
            print(f"consentbot: {INTERRUPTED}", file=sys.stderr)
            return 130
    if args.command == "invite":
        return asyncio.run(
            commands.invite(settings, args.study, args.phone, args.reference, args.language)
        )
    if args.command == "announce":
        from consentbot.announce_command import INTERRUPTED as NOT_FINISHED
        from consentbot.announce_command import announce

        try:
            return asyncio.run(announce(settings, args.study, args.file, dry_run=args.dry_run))
        except KeyboardInterrupt:
            print(f"consentbot: {NOT_FINISHED}", file=sys.stderr)
            return 130
    if args.command == "participant":
        return asyncio.run(commands.participant_erase(settings, args.study, args.reference))
    if args.command == "audit":
        if args.audit_command == "checkpoint":
            return asyncio.run(commands.audit_checkpoint(settings, args.out, args.extends))
        if args.audit_command == "public-key":
            return commands.audit_public_key(settings)
        return asyncio.run(commands.audit_verify(settings, args.checkpoint, args.public_key))
    if args.command == "receipt":
        from consentbot.receipt_command import receipt_verify

        return receipt_verify(settings, args.file, args.public_key)
    if args.command == "keys" and args.keys_command == "status":
        return asyncio.run(commands.keys_status(settings))
    if args.command == "keys":
        return asyncio.run(commands.keys_rotate(settings, args.batch_size))
    if args.command == "outbox":
        return asyncio.run(commands.outbox_unknown(settings))
    if args.command == "content" and args.content_command == "publish":
        return asyncio.run(commands.content_publish(settings, args.study, args.by, args.dry_run))
    if args.command == "content" and args.content_command == "preview":
        return commands.content_preview(settings, args.study, args.lang, args.html)
    if args.command == "content":
        return asyncio.run(
            commands.content_check(
                settings, args.dir or settings.content_dir, args.study, args.format
            )
        )
    if args.command == "user":
        return _run_user(args, settings)
    if args.command == "webhook":
        return asyncio.run(webhook_command.run(settings, args))
    if args.command == "chat":
        return asyncio.run(commands.chat(args.url, args.phone, settings.default_region))
    raise AssertionError(args.command)


def _run_user(args: argparse.Namespace, settings: Settings) -> int:
    from consentbot import staff_command

    match args.user_command:
        case "add":
            return asyncio.run(
                staff_command.user_add(settings, args.email, args.role, args.study, args.org)
            )
        case "disable":
            return asyncio.run(staff_command.user_disable(settings, args.email))
        case "reset":
            return asyncio.run(staff_command.user_reset(settings, args.email, args.totp))
        case "list":
            return asyncio.run(staff_command.user_list(settings))
        case _:
            return asyncio.run(staff_command.user_access_log(settings, args.email, args.limit))
