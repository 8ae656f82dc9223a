"""``consentbot``: serve, migrate, manage tokens, invite, verify the ledger, list unknown
messages, check content, chat."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from aiohttp import web

from consentbot.content.problems import ContentError
from consentbot.logging import configure_logging
from consentbot.settings import Settings, SettingsError


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

    invite = commands.add_parser("invite", help="invite a person to a study by SMS")
    invite.add_argument("--study", required=True)
    invite.add_argument("--phone", required=True)
    invite.add_argument("--reference", required=True, help="your reference for the participant")
    invite.add_argument("--language", help="language code, e.g. pl (default: the study's)")

    audit = commands.add_parser("audit", help="the consent ledger")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check every hash chain; exit 1 at the first fault")

    outbox = commands.add_parser("outbox", help="messages waiting, sent or stuck")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    outbox_commands.add_parser(
        "unknown",
        help="list messages that may or may not have gone (stuck in sending after a crash)",
    )

    content = commands.add_parser("content", help="study content")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    content_commands.add_parser("check", help="load and check every study; exit 1 on problems")

    chat = commands.add_parser(
        "chat", help="be a patient on the console gateway of a running server"
    )
    chat.add_argument("--phone", default="+447700900123", help="the number you are texting from")
    chat.add_argument("--url", default="http://127.0.0.1:8080", help="the running service")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``consentbot`` command."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            settings = settings.with_(
                host=args.host or settings.host,
                port=args.port or settings.port,
                demo=settings.demo or args.demo,
            )
        settings.check(serving=args.command == "serve")
    except SettingsError as error:
        print(f"consentbot: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        return _run(args, settings)
    except ContentError as error:
        print(f"consentbot: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from consentbot import commands

    if args.command == "serve":
        from consentbot.app import create_app

        web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
        return 0
    if args.command == "db":
        return commands.db_upgrade(settings)
    if args.command == "token":
        return asyncio.run(commands.token_create(settings, args.study, args.label))
    if args.command == "invite":
        return asyncio.run(
            commands.invite(settings, args.study, args.phone, args.reference, args.language)
        )
    if args.command == "audit":
        return asyncio.run(commands.audit_verify(settings))
    if args.command == "outbox":
        return asyncio.run(commands.outbox_unknown(settings))
    if args.command == "content":
        return commands.content_check(settings)
    if args.command == "chat":
        return asyncio.run(commands.chat(args.url, args.phone, settings.default_region))
    raise AssertionError(args.command)
