"""The one application factory: ``create_app(settings)``.

Resources (database, HTTP client, gateway, background loops) are opened and closed
in ``cleanup_ctx``, so tests and ``consentbot serve`` build the same app.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import structlog
from aiohttp import web

from consentbot import keys
from consentbot.api.accesses import access_routes
from consentbot.api.consent_check import consent_check_routes
from consentbot.api.receipts import receipt_routes
from consentbot.api.research import research_routes
from consentbot.channels.console import ConsoleGateway, console_routes
from consentbot.channels.gateway import InboundSms, SmsGateway
from consentbot.channels.kannel import kannel_routes
from consentbot.channels.notify import notify_routes
from consentbot.channels.twilio import twilio_routes
from consentbot.metrics import Metrics
from consentbot.runtime import load_content, open_runtime
from consentbot.services.checkpoints import checkpoint_schedule
from consentbot.services.clock import Clock, system_clock
from consentbot.services.consent_check import ConsentChecker
from consentbot.services.queue_gauges import QueueGauges
from consentbot.services.readiness import Readiness
from consentbot.services.retention import run_retention
from consentbot.services.scheduler import run_scheduler
from consentbot.settings import Settings
from consentbot.unavailable import database_unavailable
from consentbot.web.accesses import access_page_routes
from consentbot.web.client_address import trusted_networks
from consentbot.web.health import health_routes
from consentbot.web.metrics_endpoint import forget_this_process, metrics_routes
from consentbot.web.printable import printable_routes
from consentbot.web.receipts import receipt_web_routes
from consentbot.web.request_timing import request_timing
from consentbot.web.security import security_headers
from consentbot.web.staff import add_staff
from consentbot.web.templating import setup_templates
from consentbot.web.views import web_routes

log = structlog.get_logger(__name__)

STATIC = Path(__file__).parent / "web" / "static"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@web.middleware
async def request_id_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Bind a request id to every log line of the request, and echo it back."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
        except web.HTTPException as error:
            error.headers["X-Request-Id"] = request_id
            raise
        response.headers["X-Request-Id"] = request_id
        return response


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    gateway: SmsGateway | None = None,
    run_background: bool = True,
    watch_published: bool | None = None,
) -> web.Application:
    """Build the service.

    ``gateway`` overrides the configured one (tests); ``run_background=False`` leaves
    the scheduler, outbox and retention loops to the caller (tests drive them step by step).
    ``watch_published`` (default: as ``run_background``) looks for newly published study
    versions every ``settings.publish_poll_interval`` seconds and serves them.
    """
    watch = run_background if watch_published is None else watch_published
    settings.check()
    content = load_content(settings, log_warnings=True)
    app = web.Application(
        middlewares=[
            request_timing,
            request_id_middleware,
            security_headers,
            database_unavailable,
        ]
    )
    metrics = Metrics()
    app[keys.METRICS] = metrics
    app[keys.SETTINGS] = settings
    app[keys.STUDIES] = content.studies
    app[keys.LEXICON] = content.lexicon
    app[keys.PROXIES] = trusted_networks(settings.trusted_proxies)
    setup_templates(app)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        # Only serve publishes a study never published: it is what the service is for.
        async with open_runtime(
            settings,
            content,
            clock=clock,
            gateway=gateway,
            publish_unpublished=True,
            metrics=metrics,
        ) as runtime:
            app[keys.DATABASE] = runtime.db
            app[keys.QUEUE_GAUGES] = QueueGauges(runtime.db, clock)
            app[keys.READINESS] = Readiness(runtime.db, clock)
            if isinstance(runtime.gateway, ConsoleGateway):
                app[keys.CONSOLE] = runtime.gateway
            app[keys.DISPATCHER] = runtime.dispatcher
            app[keys.INBOUND] = runtime.inbound
            app[keys.INVITATIONS] = runtime.invitations
            app[keys.COHORT] = runtime.cohort
            app[keys.QUERIES] = runtime.queries
            app[keys.CONSENT_CHECK] = ConsentChecker(runtime.db, content.studies, clock)
            app[keys.TIMERS] = runtime.timers
            app[keys.TOKENS] = runtime.tokens
            app[keys.WEB_CHAT] = runtime.web_chat
            app[keys.WEB_SESSIONS] = runtime.web_sessions
            app[keys.RETENTION] = runtime.retention
            app[keys.PUBLISHING] = runtime.publishing
            app[keys.VERSIONS] = runtime.versions
            app[keys.ACCESSES] = runtime.accesses
            app[keys.PUBLISHED] = runtime.published
            app[keys.WEBHOOKS] = runtime.webhooks
            app[keys.WEBHOOK_DELIVERIES] = runtime.webhook_deliveries
            app[keys.RECEIPTS] = runtime.receipts
            tasks: list[asyncio.Task[None]] = []
            checkpoints = checkpoint_schedule(settings, runtime.db, content.studies, clock)
            if checkpoints is not None:
                app[keys.CHECKPOINTS] = checkpoints
            if run_background:
                interval = settings.scheduler_interval
                tasks.append(asyncio.create_task(runtime.dispatcher.run(interval), name="outbox"))
                tasks.append(
                    asyncio.create_task(run_scheduler(runtime.timers, interval), name="scheduler")
                )
                if checkpoints is not None:
                    tasks.append(asyncio.create_task(checkpoints.run(interval), name="checkpoints"))
                tasks.append(
                    asyncio.create_task(run_retention(runtime.retention), name="retention")
                )
                deliveries = runtime.webhook_deliveries.run(interval)
                tasks.append(asyncio.create_task(deliveries, name="webhooks"))
            if watch:
                poll = runtime.published.run(settings.publish_poll_interval)
                tasks.append(asyncio.create_task(poll, name="published-versions"))
            log.info(
                "service.started",
                gateway=runtime.gateway.name,
                studies={s.id: s.version for s in content.studies.studies.values()},
            )
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app.cleanup_ctx.append(resources)
    app.on_cleanup.append(forget_this_process)
    _add_routes(app, settings, clock, run_background)
    return app


def _add_routes(
    app: web.Application, settings: Settings, clock: Clock, run_background: bool
) -> None:
    # Channel routes exist before the services do; they look them up per request.
    async def on_inbound(message: InboundSms) -> None:
        await app[keys.INBOUND].handle(message)

    async def on_status(provider_id: str, status: str, error_code: str | None) -> None:
        await app[keys.DISPATCHER].record_delivery(provider_id, status, error_code)

    async def on_status_for_reference(reference: str, status: str, error_code: str | None) -> None:
        await app[keys.DISPATCHER].record_delivery_for_reference(reference, status, error_code)

    app.router.add_routes(health_routes(settings))
    app.router.add_routes(metrics_routes(settings))
    app.router.add_routes(research_routes())
    app.router.add_routes(access_routes())
    app.router.add_routes(receipt_routes())
    app.router.add_routes(consent_check_routes())
    app.router.add_routes(web_routes())
    app.router.add_routes(access_page_routes())
    app.router.add_routes(receipt_web_routes())
    app.router.add_routes(printable_routes())
    add_staff(app, settings, clock, run_background=run_background)
    app.router.add_static("/static", STATIC, append_version=False)
    if settings.sms_gateway == "twilio":
        app.router.add_routes(
            twilio_routes(
                on_inbound=on_inbound,
                on_status=on_status,
                auth_token=settings.twilio_auth_token,
                public_url=settings.public_url,
                now=clock,
            )
        )
    elif settings.sms_gateway == "kannel":
        assert settings.kannel_inbound_token  # Settings.check() requires it
        app.router.add_routes(
            kannel_routes(
                on_inbound=on_inbound,
                token=settings.kannel_inbound_token,
                now=clock,
                on_status=on_status_for_reference,
            )
        )
    elif settings.sms_gateway == "notify":
        assert settings.notify_callback_token  # Settings.check() requires it
        app.router.add_routes(
            notify_routes(
                on_inbound=on_inbound,
                on_status=on_status_for_reference,
                callback_token=settings.notify_callback_token,
                now=clock,
            )
        )
    else:
        app.router.add_routes(
            console_routes(lambda: app.get(keys.CONSOLE), on_inbound=on_inbound, now=clock)
        )
