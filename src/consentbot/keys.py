"""Typed application keys: the one place where what lives on the app is declared."""

from __future__ import annotations

from aiohttp import web

from consentbot.channels.console import ConsoleGateway
from consentbot.content.live import LiveCatalogue
from consentbot.conversation.lexicon import Lexicon
from consentbot.metrics import Metrics
from consentbot.services.accesses import AccessService
from consentbot.services.checkpoints import CheckpointSchedule
from consentbot.services.cohort import CohortInvitations
from consentbot.services.consent_check import ConsentChecker
from consentbot.services.dispatcher import OutboxDispatcher
from consentbot.services.inbound import InboundService
from consentbot.services.invitations import InvitationService
from consentbot.services.publishing import PublishingService
from consentbot.services.queries import ConsentQueries
from consentbot.services.queue_gauges import QueueGauges
from consentbot.services.receipts import ReceiptQueries
from consentbot.services.retention import RetentionService
from consentbot.services.served_versions import PublishedWatcher
from consentbot.services.staff_access_log import StaffAccessLog
from consentbot.services.staff_accounts import StaffAccounts
from consentbot.services.staff_login import StaffLogin
from consentbot.services.timers import TimerService
from consentbot.services.tokens import TokenService
from consentbot.services.versions import PublishedVersions
from consentbot.services.web_chat import WebChatService
from consentbot.services.web_sessions import WebSessionService
from consentbot.services.webhook_delivery import WebhookDeliverer
from consentbot.services.webhooks import WebhookAdmin
from consentbot.settings import Settings
from consentbot.store.database import Database
from consentbot.web.client_address import Network

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
STUDIES = web.AppKey("studies", LiveCatalogue)
CONSOLE = web.AppKey("console_gateway", ConsoleGateway)
DISPATCHER = web.AppKey("dispatcher", OutboxDispatcher)
INBOUND = web.AppKey("inbound_service", InboundService)
INVITATIONS = web.AppKey("invitation_service", InvitationService)
COHORT = web.AppKey("cohort_invitations", CohortInvitations)
QUERIES = web.AppKey("consent_queries", ConsentQueries)
TIMERS = web.AppKey("timer_service", TimerService)
TOKENS = web.AppKey("token_service", TokenService)
LEXICON = web.AppKey("lexicon", Lexicon)
WEB_CHAT = web.AppKey("web_chat_service", WebChatService)
WEB_SESSIONS = web.AppKey("web_session_service", WebSessionService)
PROXIES = web.AppKey("trusted_proxies", tuple[Network, ...])
CHECKPOINTS = web.AppKey("checkpoint_schedule", CheckpointSchedule)
RETENTION = web.AppKey("retention_service", RetentionService)
PUBLISHING = web.AppKey("publishing_service", PublishingService)
VERSIONS = web.AppKey("published_versions", PublishedVersions)
PUBLISHED = web.AppKey("published_watcher", PublishedWatcher)
STAFF_ACCOUNTS = web.AppKey("staff_accounts", StaffAccounts)
STAFF_LOGIN = web.AppKey("staff_login", StaffLogin)
STAFF_ACCESS = web.AppKey("staff_access_log", StaffAccessLog)
ACCESSES = web.AppKey("access_service", AccessService)
WEBHOOKS = web.AppKey("webhook_admin", WebhookAdmin)
WEBHOOK_DELIVERIES = web.AppKey("webhook_deliverer", WebhookDeliverer)
RECEIPTS = web.AppKey("receipt_queries", ReceiptQueries)
CONSENT_CHECK = web.AppKey("consent_checker", ConsentChecker)
METRICS = web.AppKey("metrics", Metrics)
QUEUE_GAUGES = web.AppKey("queue_gauges", QueueGauges)
