"""The ``consentbot webhook`` commands: add, list, remove and status (docs/webhooks.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from consentbot.services.errors import ServiceError
from consentbot.settings import Settings
from consentbot.terminal_table import moment, print_table

if TYPE_CHECKING:
    from consentbot.services.webhooks import WebhookAdmin


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``webhook`` and its subcommands."""
    webhook = commands.add_parser(
        "webhook", help="tell a study's systems about every consent change (docs/webhooks.md)"
    )
    webhook_commands = webhook.add_subparsers(dest="webhook_command", required=True)
    add = webhook_commands.add_parser(
        "add", help="send the study's consent changes to URL; prints the signing secret once"
    )
    add.add_argument("--study", required=True)
    add.add_argument(
        "--url", required=True, help="https:// (http:// only to 127.0.0.1 or localhost)"
    )
    listing = webhook_commands.add_parser("list", help="every webhook (never its secret)")
    listing.add_argument("--study", help="only this study's")
    remove = webhook_commands.add_parser(
        "remove", help="stop sending to a webhook; what it had not received is cancelled"
    )
    remove.add_argument("id", type=int, help="the webhook's id, as `webhook list` shows it")
    status = webhook_commands.add_parser(
        "status", help="deliveries, failures and backlog of each webhook"
    )
    status.add_argument("--study", help="only this study's")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run the ``webhook`` subcommand ``args`` names."""
    try:
        match args.webhook_command:
            case "add":
                return await webhook_add(settings, args.study, args.url)
            case "list":
                return await webhook_list(settings, args.study)
            case "remove":
                return await webhook_remove(settings, args.id)
            case _:
                return await webhook_status(settings, args.study)
    except ServiceError as error:
        print(f"consentbot: {error.message}", file=sys.stderr)
        return 1


@asynccontextmanager
async def _admin(settings: Settings, study: str | None = None) -> AsyncIterator[WebhookAdmin]:
    # Imported here: the parser is built on every command, the runtime only for this one.
    from consentbot.runtime import load_content, open_runtime, require_published
    from consentbot.services.clock import system_clock

    content = load_content(settings)
    async with open_runtime(settings, content, clock=system_clock) as runtime:
        if study is not None:
            require_published(content, study)
        yield runtime.webhooks


async def webhook_add(settings: Settings, study: str, url: str) -> int:
    """Register a webhook; print its signing secret, on the last line, this once."""
    async with _admin(settings, study) as admin:
        added = await admin.add(study, url)
    print(
        f"Added webhook {added.id} for {added.study}: {added.url}. Its signing secret "
        "follows; it is not shown again (keep it in the receiver's configuration):",
        file=sys.stderr,
    )
    print(added.secret)
    return 0


async def webhook_list(settings: Settings, study: str | None) -> int:
    """Every webhook: id, study, URL, added, removed."""
    async with _admin(settings) as admin:
        webhooks = await admin.all(study)
    if not webhooks:
        print("no webhooks yet: add one with `consentbot webhook add --study ID --url URL`")
        return 0
    rows = [("id", "study", "url", "added", "removed")]
    rows += [(str(w.id), w.study, w.url, moment(w.created), moment(w.removed)) for w in webhooks]
    print_table(rows)
    return 0


async def webhook_remove(settings: Settings, webhook_id: int) -> int:
    """Stop deliveries to a webhook."""
    async with _admin(settings) as admin:
        removed, cancelled = await admin.remove(webhook_id)
    print(
        f"webhook {removed.id} ({removed.url}) is removed; "
        f"{cancelled} waiting deliveries were cancelled"
    )
    return 0


async def webhook_status(settings: Settings, study: str | None) -> int:
    """Deliveries, failures and backlog per webhook; exit 1 when any delivery failed."""
    async with _admin(settings) as admin:
        found = await admin.status(study)
    if not found:
        print("no webhooks yet: add one with `consentbot webhook add --study ID --url URL`")
        return 0
    rows = [
        ("id", "study", "url", "delivered", "failed", "backlog", "oldest waiting", "last error")
    ]
    rows += [
        (
            str(s.webhook.id),
            s.webhook.study,
            s.webhook.url + (" (removed)" if s.webhook.removed else ""),
            str(s.counts.delivered),
            str(s.counts.failed),
            str(s.counts.backlog),
            moment(s.counts.oldest_pending),
            s.counts.last_error or "-",
        )
        for s in found
    ]
    print_table(rows)
    return 1 if any(s.counts.failed and not s.webhook.removed for s in found) else 0
