"""Open everything the services need, and close it again: shared by the app and the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache, partial

import structlog
from aiohttp import ClientSession, ClientTimeout

from consentbot.channels.console import ConsoleGateway
from consentbot.channels.gateway import SmsGateway
from consentbot.channels.kannel import KannelGateway, status_url
from consentbot.channels.notify import NotifyGateway
from consentbot.channels.notify_auth import NotifyApiKey
from consentbot.channels.twilio import TwilioGateway
from consentbot.content.live import LiveCatalogue
from consentbot.content.loader import load_catalogue
from consentbot.content.model import StudyCatalogue
from consentbot.conversation.lexicon import Lexicon
from consentbot.domain.cooling_off import CoolingOff
from consentbot.domain.durations import format_duration
from consentbot.i18n.catalogs import Catalogs
from consentbot.metrics import Metrics
from consentbot.services.accesses import AccessService
from consentbot.services.announcements import AnnouncementService
from consentbot.services.clock import Clock
from consentbot.services.cohort import CohortInvitations
from consentbot.services.deps import ServiceDeps
from consentbot.services.dispatcher import OutboxDispatcher
from consentbot.services.erasure import ErasureService
from consentbot.services.errors import ServiceError
from consentbot.services.inbound import InboundService
from consentbot.services.invitations import InvitationService
from consentbot.services.pipeline import TurnPipeline
from consentbot.services.publishing import PublishingService
from consentbot.services.queries import ConsentQueries
from consentbot.services.receipts import ReceiptQueries
from consentbot.services.retention import RetentionService
from consentbot.services.served_versions import (
    Prepare,
    PublishedWatcher,
    load_published,
    serve_published,
)
from consentbot.services.study_changes import StudyChangeService
from consentbot.services.timers import TimerService
from consentbot.services.tokens import TokenService
from consentbot.services.verification import CodeLimits, VerificationService
from consentbot.services.versions import PublishedVersions
from consentbot.services.web_chat import WebChatService
from consentbot.services.web_sessions import WebSessionService
from consentbot.services.webhook_delivery import WebhookDeliverer
from consentbot.services.webhooks import WebhookAdmin
from consentbot.settings import Settings
from consentbot.store import migrate
from consentbot.store.crypto import PhoneVault, load_or_create_secret, load_previous_secrets
from consentbot.store.database import Database
from consentbot.store.phones import SendingPolicy
from consentbot.store.signing_key import signing_key
from consentbot.store.webhooks import DELIVERIES_QUEUED

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Content:
    """Studies and the words to talk about them.

    ``files`` is what the content folder holds (checked at start); ``studies`` is what is
    served: the newest published versions once :func:`open_runtime` has opened the
    database, swapped whenever a version is published.
    """

    files: StudyCatalogue
    studies: LiveCatalogue
    lexicon: Lexicon
    prepare: Prepare
    """Applied to published studies before they are served (demo mode's cooling-off)."""


def load_content(settings: Settings, *, log_warnings: bool = False) -> Content:
    """Load and check study content and catalogs; raise ContentError on any problem.

    ``serve`` logs the content's warnings (``log_warnings``) so they reach whoever runs it;
    the other commands leave them to ``content check``, which explains each one.
    """
    files = load_catalogue(settings.content_dir)
    for study in files.studies.values():
        for warning in study.warnings if log_warnings else ():
            log.warning("content.warning", detail=str(warning))
    # Outside demo mode the published studies are served as they are.
    prepare: Prepare = (
        partial(demo_catalogue, cooling_off=settings.demo_cooling_off)
        if settings.demo
        else lambda published: published
    )
    if settings.demo:
        log.warning(
            "demo_mode",
            cooling_off=format_duration(settings.demo_cooling_off),
            note="never use demo mode with real people",
        )
    studies = LiveCatalogue(prepare(files))
    # Every catalog, not only today's studies' languages: a version published later
    # may add a language.
    catalogs = Catalogs.load(settings.locales_dir, None, settings.default_region)
    return Content(files, studies, Lexicon(catalogs, studies), prepare)


def demo_catalogue(studies: StudyCatalogue, *, cooling_off: timedelta) -> StudyCatalogue:
    """Every study with a short cooling-off: for trying the journey, never for real use."""
    return StudyCatalogue(
        {
            study_id: replace(
                study, cooling_off=CoolingOff(cooling_off, study.cooling_off.confirm_within)
            )
            for study_id, study in studies.studies.items()
        }
    )


class NeverPublished(ServiceError):
    """A study in the content folder that has no published version yet.

    Only ``serve`` publishes such a study on its own; a one-off command must not publish
    in someone's name, so it stops and says how to publish.
    """


def require_published(content: Content, study_id: str) -> None:
    """Raise NeverPublished if ``study_id`` is in the files but was never published.

    A study in neither is left to the service, which says there is no such study.
    """
    if content.studies.get(study_id) is None and study_id in content.files.studies:
        raise NeverPublished(
            f"study {study_id} has never been published: run "
            f"`consentbot content publish --study {study_id} --by NAME` "
            "(or start `consentbot serve`)"
        )


def secret_key(settings: Settings) -> str:
    """CONSENTBOT_SECRET_KEY, or on the embedded default a key generated into the data folder."""
    if settings.secret_key:
        return settings.secret_key
    if not settings.is_embedded:
        raise RuntimeError("CONSENTBOT_SECRET_KEY must be set when using PostgreSQL")
    return load_or_create_secret(settings.data_dir / "secret.key")


def previous_secret_keys(settings: Settings) -> list[str]:
    """CONSENTBOT_PREVIOUS_SECRET_KEYS, and with the generated key, ``secret.previous`` beside it."""
    keys = list(settings.previous_secret_keys)
    if not settings.secret_key and settings.is_embedded:
        keys += load_previous_secrets(settings.data_dir / "secret.previous")
    return keys


def open_vault(settings: Settings) -> PhoneVault:
    """The vault with the current key and every previous key (raises SecretKeyError)."""
    return PhoneVault(secret_key(settings), previous_secret_keys(settings))


def build_gateway(settings: Settings, client: ClientSession) -> SmsGateway:
    """The configured outbound gateway."""
    if settings.sms_gateway == "twilio":
        assert settings.twilio_account_sid
        assert settings.twilio_auth_token
        assert settings.twilio_from
        callback = f"{settings.public_url}/sms/twilio/status" if settings.public_url else None
        return TwilioGateway(
            client,
            api_base=settings.twilio_api_base,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            sender=settings.twilio_from,
            status_callback_url=callback,
        )
    if settings.sms_gateway == "kannel":
        assert settings.kannel_username
        assert settings.kannel_password
        assert settings.kannel_inbound_token  # Settings.check() requires it
        return KannelGateway(
            client,
            sendsms_url=settings.kannel_sendsms_url,
            username=settings.kannel_username,
            password=settings.kannel_password,
            sender=settings.kannel_from,
            dlr_url=status_url(settings.kannel_status_url, settings.kannel_inbound_token)
            if settings.kannel_status_url
            else None,
        )
    if settings.sms_gateway == "notify":
        assert settings.notify_api_key  # Settings.check() requires it
        assert settings.notify_template_id
        return NotifyGateway(
            client,
            api_key=NotifyApiKey.parse(settings.notify_api_key),
            template_id=settings.notify_template_id,
            sms_sender_id=settings.notify_sms_sender_id,
            api_base=settings.notify_api_base,
        )
    return ConsoleGateway()


@dataclass(frozen=True)
class Runtime:
    """Open resources and the services built on them."""

    db: Database
    client: ClientSession
    gateway: SmsGateway
    dispatcher: OutboxDispatcher
    inbound: InboundService
    invitations: InvitationService
    cohort: CohortInvitations
    queries: ConsentQueries
    timers: TimerService
    tokens: TokenService
    web_sessions: WebSessionService
    web_chat: WebChatService
    retention: RetentionService
    erasure: ErasureService
    study_changes: StudyChangeService
    publishing: PublishingService
    published: PublishedWatcher
    versions: PublishedVersions
    announcements: AnnouncementService
    accesses: AccessService
    webhooks: WebhookAdmin
    webhook_deliveries: WebhookDeliverer
    receipts: ReceiptQueries


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    content: Content,
    *,
    clock: Clock,
    gateway: SmsGateway | None = None,
    publish_unpublished: bool = False,
    metrics: Metrics | None = None,
) -> AsyncIterator[Runtime]:
    """Open the database, HTTP client and gateway; close them on exit.

    Before any service runs, the newest published version of each study is put into
    ``content.studies``. Only ``serve`` passes ``publish_unpublished=True``: it publishes
    a study never published (as "serve") and refuses files edited without raising
    ``version`` (ContentError). Every other command serves what is published and nothing
    else; one that needs a study never published says so (:func:`require_published`).

    ``metrics`` is the app's (``/metrics`` shows it); commands count into a fresh one.
    """
    metrics = metrics if metrics is not None else Metrics()
    url = settings.effective_database_url
    if settings.is_embedded:
        # Zero set-up: the embedded default migrates itself on start.
        await asyncio.to_thread(migrate.upgrade, url)
    vault = open_vault(settings)
    db = Database(url)
    if db.group is not None:
        db.group.on_group = metrics.group_committed
    client = ClientSession(timeout=ClientTimeout(total=30))
    try:
        chosen = gateway or build_gateway(settings, client)
        dispatcher = OutboxDispatcher(
            db,
            chosen,
            vault,
            clock,
            content.studies,
            send_rate=settings.send_rate,
            metrics=metrics,
        )
        deliverer = WebhookDeliverer(db, client, vault, clock)

        # A commit that queued webhook deliveries wakes the deliverer: a withdrawal must
        # reach receivers within seconds, and other commits cost it no round.
        db.on_commit(DELIVERIES_QUEUED, deliverer.wake)

        def after_commit() -> None:
            dispatcher.wake()

        deps = ServiceDeps(
            db=db,
            vault=vault,
            studies=content.studies,
            lexicon=content.lexicon,
            clock=clock,
            default_region=settings.default_region,
            max_segments=settings.max_segments,
            public_url=settings.public_url,
            sending=SendingPolicy.of(
                settings.sms_regions, settings.default_region, demo=settings.demo
            ),
            link_lifetime=settings.link_lifetime,
            on_outbox=after_commit,
            audit_key=cache(partial(signing_key, settings.audit_signing_key, settings.data_dir)),
            metrics=metrics,
        )
        pipeline = TurnPipeline(deps)
        web_sessions = WebSessionService(deps)
        limits = CodeLimits(
            per_address_per_hour=settings.codes_per_address_per_hour,
            service_per_hour=settings.code_sms_per_hour,
        )
        verification = VerificationService(deps, pipeline, web_sessions, limits)
        study_changes = StudyChangeService(deps, pipeline)
        publishing = PublishingService(db, clock, settings.content_dir, after_publish=study_changes)
        published = PublishedWatcher(
            db, content.studies, content.prepare, resume=study_changes.resume
        )
        if publish_unpublished:
            served = await serve_published(db, content.files, publishing)
        else:
            served = await load_published(db, content.files)
        await published.start(served)
        invitations = InvitationService(deps, pipeline)
        timers = TimerService(deps, pipeline)
        yield Runtime(
            db=db,
            client=client,
            gateway=chosen,
            dispatcher=dispatcher,
            inbound=InboundService(deps, pipeline),
            invitations=invitations,
            cohort=CohortInvitations(deps, invitations, timers),
            queries=ConsentQueries(deps),
            timers=timers,
            tokens=TokenService(deps),
            web_sessions=web_sessions,
            web_chat=WebChatService(deps, pipeline, web_sessions, verification),
            retention=RetentionService(deps, settings.retention),
            erasure=ErasureService(deps, pipeline),
            study_changes=study_changes,
            publishing=publishing,
            published=published,
            versions=PublishedVersions(deps),
            announcements=AnnouncementService(deps),
            accesses=AccessService(deps),
            webhooks=WebhookAdmin(db, vault, clock, content.studies),
            webhook_deliveries=deliverer,
            receipts=ReceiptQueries(deps),
        )
    finally:
        await client.close()
        await db.dispose()
