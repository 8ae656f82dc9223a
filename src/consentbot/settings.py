"""Configuration from ``CONSENTBOT_*`` environment variables (documented in docs/configuration.md)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

from phonenumbers import SUPPORTED_REGIONS

from consentbot.channels.notify_auth import DEFAULT_API_BASE, ApiKeyError, NotifyApiKey, is_uuid
from consentbot.domain.durations import DurationError, format_duration, parse_duration
from consentbot.domain.retention import MINIMUM_PERIOD, RetentionPeriods
from consentbot.loopback import is_loopback
from consentbot.store.signing_key import SigningKeyError, decode_private_key


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


Gateway = Literal["console", "twilio", "kannel", "notify"]
GATEWAYS: tuple[Gateway, ...] = get_args(Gateway)
KANNEL_TOKEN_MIN_LENGTH = 24
"""Long enough that guessing the shared secret on Kannel's get-url is hopeless."""
NOTIFY_CALLBACK_TOKEN_MIN_LENGTH = 10
"""Notify's own minimum for a callback bearer token."""
METRICS_TOKEN_MIN_LENGTH = 24
"""As for Kannel's token: long enough that guessing the scraper's bearer token is hopeless."""
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1")


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start. Build with :meth:`from_env` or directly in tests."""

    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str | None = None
    previous_secret_keys: tuple[str, ...] = ()
    """Older keys still accepted for reading, until ``consentbot keys rotate`` has run."""
    content_dir: Path = Path("content")
    locales_dir: Path = Path("locales")
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    """Processes ``serve`` runs on the one port (SO_REUSEPORT); more than one needs PostgreSQL."""
    public_url: str | None = None
    sms_gateway: Gateway = "console"
    default_region: str = "GB"
    max_segments: int = 6
    scheduler_interval: float = 1.0
    publish_poll_interval: float = 5.0
    """Seconds between looks for a newly published study version (it is served within 10 s)."""
    send_rate: float = 10.0
    """Messages we start (invitations, reminders, notices) per second, at most; replies are
    not held back by it (see domain/send_rate.py)."""
    log_format: str = "console"
    log_level: str = "INFO"
    demo: bool = False
    """Console gateway only: shorten cooling-off so a newcomer can finish the journey."""
    demo_cooling_off: timedelta = timedelta(minutes=1)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    kannel_sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    kannel_username: str | None = None
    kannel_password: str | None = None
    kannel_from: str | None = None
    kannel_inbound_token: str | None = None
    kannel_status_url: str | None = None
    """Where Kannel reaches /sms/kannel/status for delivery reports (None: no reports)."""
    notify_api_key: str | None = field(default=None, repr=False)
    """The key as Notify issues it: ``{name}-{service id}-{secret}``."""
    notify_template_id: str | None = None
    """A Notify text message template whose whole body is ``((body))``."""
    notify_sms_sender_id: str | None = None
    notify_api_base: str = DEFAULT_API_BASE
    notify_callback_token: str | None = field(default=None, repr=False)
    """The bearer token Notify sends on its callbacks (set on Notify's Callbacks page)."""
    sms_regions: tuple[str, ...] = ("GB",)
    """Regions whose mobiles may be sent a code or an invitation."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed."""
    metrics_allow: tuple[str, ...] = LOOPBACK_NETWORKS
    """Client networks that may read /metrics without a token (empty: none)."""
    metrics_token: str | None = field(default=None, repr=False)
    """A bearer token that may read /metrics from anywhere (None: only ``metrics_allow``)."""
    code_sms_per_hour: int = 200
    """The whole service's hourly budget of code SMS (a brake on SMS pumping)."""
    codes_per_address_per_hour: int = 10
    link_lifetime: timedelta = timedelta(days=30)
    """How long a personal invitation link works (unless WITHDRAW or STOP revoke it)."""
    # Ledger checkpoints (docs/audit.md)
    audit_signing_key: str | None = field(default=None, repr=False)
    """Base64 of the raw 32-byte Ed25519 key that signs checkpoints (None: the data folder's)."""
    audit_checkpoint_dir: Path | None = None
    """Where ``serve`` writes a checkpoint every ``audit_checkpoint_every`` (None: it does not)."""
    audit_checkpoint_every: timedelta = timedelta(days=1)
    retention: RetentionPeriods = field(default_factory=RetentionPeriods)
    """How long working data is kept (CONSENTBOT_RETENTION_*; see docs/retention.md)."""

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or SQLite in the data folder."""
        return (
            self.database_url
            or f"sqlite+aiosqlite:///{(self.data_dir / 'consentbot.db').resolve()}"
        )

    @property
    def is_embedded(self) -> bool:
        """True on the zero set-up default: SQLite."""
        return self.effective_database_url.startswith("sqlite")

    def with_(self, **changes: object) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self, *, serving: bool = True) -> None:
        """Raise :class:`SettingsError` for a combination that cannot work or is unsafe.

        ``serving=False`` is for commands that open no port (``token``, ``invite``, ``db``...):
        they skip the console gateway's rules, which are about who can reach the routes.
        """
        if self.sms_gateway not in GATEWAYS:
            raise SettingsError(
                f"CONSENTBOT_SMS_GATEWAY must be one of {', '.join(GATEWAYS)}, not {self.sms_gateway!r}"
            )
        if self.sms_gateway == "twilio":
            for name, value in (
                ("CONSENTBOT_TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                ("CONSENTBOT_TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                ("CONSENTBOT_TWILIO_FROM", self.twilio_from),
                ("CONSENTBOT_PUBLIC_URL", self.public_url),
            ):
                if not value:
                    raise SettingsError(f"{name} is required with the twilio gateway")
        if self.sms_gateway == "kannel":
            for name, value in (
                ("CONSENTBOT_KANNEL_USERNAME", self.kannel_username),
                ("CONSENTBOT_KANNEL_PASSWORD", self.kannel_password),
            ):
                if not value:
                    raise SettingsError(f"{name} is required with the kannel gateway")
        if self.sms_gateway == "notify":
            self._check_notify()
        self._check_inbound_security(serving=serving)
        if serving:
            self._check_workers()
        if self.demo and self.sms_gateway != "console":
            raise SettingsError(
                "demo mode shortens cooling-off and only runs with the console gateway"
            )
        if self.log_format not in ("console", "json"):
            raise SettingsError("CONSENTBOT_LOG_FORMAT must be console or json")
        if not (math.isfinite(self.send_rate) and self.send_rate > 0):
            raise SettingsError(
                f"CONSENTBOT_SEND_RATE must be a number of messages per second above 0, "
                f"not {self.send_rate!r}"
            )
        if self.max_segments < 1:
            raise SettingsError("CONSENTBOT_SMS_MAX_SEGMENTS must be at least 1")
        if not 0 < self.publish_poll_interval <= 10:
            raise SettingsError(
                "CONSENTBOT_PUBLISH_POLL_INTERVAL must be above 0 and at most 10 seconds"
            )
        if not self.sms_regions:
            raise SettingsError("CONSENTBOT_SMS_REGIONS must name at least one region, e.g. GB")
        for region in self.sms_regions:
            if region.upper() not in SUPPORTED_REGIONS:
                raise SettingsError(
                    f"CONSENTBOT_SMS_REGIONS: {region!r} is not a region code like GB or IE"
                )
        for proxy in self.trusted_proxies:
            try:
                ip_network(proxy, strict=False)
            except ValueError as error:
                raise SettingsError(
                    f"CONSENTBOT_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
                ) from error
        self._check_metrics()
        if self.code_sms_per_hour < 1 or self.codes_per_address_per_hour < 1:
            raise SettingsError(
                "CONSENTBOT_CODE_SMS_PER_HOUR and CONSENTBOT_CODES_PER_ADDRESS_PER_HOUR "
                "must be at least 1"
            )
        if self.link_lifetime <= timedelta(0):
            raise SettingsError("CONSENTBOT_LINK_LIFETIME must be longer than nothing")

        if short := self.retention.too_short():
            name = short[0]
            raise SettingsError(
                f"{retention_variable(name)} must be at least {format_duration(MINIMUM_PERIOD)} "
                f"(one day), not {format_duration(getattr(self.retention, name))}: code rate "
                "limits count the last day's codes and gateways retry messages for hours"
            )

        self._check_audit()

    def _check_workers(self) -> None:
        """Several processes share one database's writers: PostgreSQL only."""
        if self.workers < 1:
            raise SettingsError("CONSENTBOT_WORKERS (serve --workers) must be at least 1")
        if self.workers > 1 and self.is_embedded:
            raise SettingsError(
                f"serve --workers {self.workers} needs PostgreSQL (CONSENTBOT_DATABASE_URL): "
                "SQLite has a single writer, so more processes would only queue for it. "
                "Run one worker on SQLite"
            )

    def _check_notify(self) -> None:
        """The Notify settings, each named when wrong; the key's secret is never repeated."""
        if not self.notify_api_key:
            raise SettingsError("CONSENTBOT_NOTIFY_API_KEY is required with the notify gateway")
        try:
            NotifyApiKey.parse(self.notify_api_key)
        except ApiKeyError as error:
            raise SettingsError(f"CONSENTBOT_NOTIFY_API_KEY {error}") from None
        if not self.notify_template_id:
            raise SettingsError(
                "CONSENTBOT_NOTIFY_TEMPLATE_ID is required with the notify gateway: the id of a "
                "text message template whose whole body is ((body))"
            )
        for name, value in (
            ("CONSENTBOT_NOTIFY_TEMPLATE_ID", self.notify_template_id),
            ("CONSENTBOT_NOTIFY_SMS_SENDER_ID", self.notify_sms_sender_id),
        ):
            if value is not None and not is_uuid(value):
                raise SettingsError(
                    f"{name} must be a UUID like 01234567-89ab-cdef-0123-456789abcdef "
                    f"(copy it from Notify), not {value!r}"
                )
        base = urlsplit(self.notify_api_base)
        if base.scheme != "https" and not (base.scheme == "http" and is_loopback(base.hostname)):
            # The bearer JWT would cross the network in clear, replayable for 30 seconds.
            raise SettingsError(
                "CONSENTBOT_NOTIFY_API_BASE must be an https URL (http only on this machine, "
                f"for an emulator), not {self.notify_api_base!r}"
            )
        token = self.notify_callback_token or ""
        if len(token) < NOTIFY_CALLBACK_TOKEN_MIN_LENGTH:
            raise SettingsError(
                f"CONSENTBOT_NOTIFY_CALLBACK_TOKEN must be set to at least "
                f"{NOTIFY_CALLBACK_TOKEN_MIN_LENGTH} characters with the notify gateway "
                f"({'it has ' + str(len(token)) if token else 'it is not set'}): without it "
                "anyone who can reach /sms/notify/inbound can text the service as any phone number"
            )

    def _check_metrics(self) -> None:
        for network in self.metrics_allow:
            try:
                ip_network(network, strict=False)
            except ValueError as error:
                raise SettingsError(
                    f"CONSENTBOT_METRICS_ALLOW: {network!r} is not an IP address or network "
                    "(or set it to none)"
                ) from error
        token = self.metrics_token
        if token is not None and len(token) < METRICS_TOKEN_MIN_LENGTH:
            raise SettingsError(
                f"CONSENTBOT_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} "
                f"characters (it has {len(token)}): e.g. the output of `openssl rand -hex 32`"
            )

    def _check_audit(self) -> None:
        if self.audit_signing_key:
            try:
                decode_private_key(self.audit_signing_key, "CONSENTBOT_AUDIT_SIGNING_KEY")
            except SigningKeyError as error:
                raise SettingsError(str(error)) from error
        if self.audit_checkpoint_every <= timedelta(0):
            raise SettingsError("CONSENTBOT_AUDIT_CHECKPOINT_EVERY must be longer than zero")

    def _check_inbound_security(self, *, serving: bool) -> None:
        """Every route that acts as a phone number must be authenticated (see configuration.md)."""
        if self.sms_gateway == "kannel":
            token = self.kannel_inbound_token or ""
            if len(token) < KANNEL_TOKEN_MIN_LENGTH:
                raise SettingsError(
                    f"CONSENTBOT_KANNEL_INBOUND_TOKEN must be set to at least "
                    f"{KANNEL_TOKEN_MIN_LENGTH} characters with the kannel gateway "
                    f"({'it has ' + str(len(token)) if token else 'it is not set'}): "
                    "without it anyone who can reach /sms/kannel/inbound can text the "
                    "service as any phone number"
                )
        if self.sms_gateway == "console" and serving:
            if not self.is_embedded:
                raise SettingsError(
                    "the console gateway only runs on a developer's machine with SQLite, never "
                    "with PostgreSQL: it prints messages instead of sending them and its routes "
                    "have no authentication. Set CONSENTBOT_SMS_GATEWAY to twilio, kannel or notify"
                )
            if not is_loopback(self.host):
                raise SettingsError(
                    f"the console gateway only listens on this machine (127.0.0.1, ::1 or "
                    f"localhost), not on {self.host!r}: its routes let anyone who can reach them "
                    "text as any number and read every reply. Use --host 127.0.0.1, or a real "
                    "gateway (CONSENTBOT_SMS_GATEWAY=twilio, kannel or notify)"
                )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``CONSENTBOT_*`` variables; unset ones keep their defaults."""
        env = os.environ if env is None else env
        defaults = cls()

        def text(name: str, default: str | None) -> str | None:
            value = env.get(f"CONSENTBOT_{name}")
            return value if value not in (None, "") else default

        def number(name: str, default: float, kind: type[int] | type[float]) -> float:
            raw = text(name, None)
            if raw is None:
                return default
            try:
                return kind(raw)
            except ValueError as error:
                raise SettingsError(f"CONSENTBOT_{name} must be a number, not {raw!r}") from error

        def duration(name: str, default: timedelta) -> timedelta:
            raw = text(name, None)
            if raw is None:
                return default
            try:
                return parse_duration(raw)
            except DurationError as error:
                raise SettingsError(f"CONSENTBOT_{name}: {error}") from error

        def listed(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            raw = text(name, None)
            if raw is None:
                return default
            return tuple(part.strip() for part in raw.split(",") if part.strip())

        checkpoint_dir = text("AUDIT_CHECKPOINT_DIR", None)
        return cls(
            demo_cooling_off=duration("DEMO_COOLING_OFF", defaults.demo_cooling_off),
            link_lifetime=duration("LINK_LIFETIME", defaults.link_lifetime),
            sms_regions=listed("SMS_REGIONS", defaults.sms_regions),
            trusted_proxies=listed("TRUSTED_PROXIES", defaults.trusted_proxies),
            metrics_allow=_networks_or_none(listed("METRICS_ALLOW", defaults.metrics_allow)),
            metrics_token=text("METRICS_TOKEN", None),
            code_sms_per_hour=int(number("CODE_SMS_PER_HOUR", defaults.code_sms_per_hour, int)),
            codes_per_address_per_hour=int(
                number("CODES_PER_ADDRESS_PER_HOUR", defaults.codes_per_address_per_hour, int)
            ),
            data_dir=Path(text("DATA_DIR", str(defaults.data_dir)) or "var"),
            database_url=text("DATABASE_URL", "") or "",
            secret_key=text("SECRET_KEY", None),
            previous_secret_keys=listed("PREVIOUS_SECRET_KEYS", ()),
            content_dir=Path(text("CONTENT_DIR", str(defaults.content_dir)) or "content"),
            locales_dir=Path(text("LOCALES_DIR", str(defaults.locales_dir)) or "locales"),
            host=text("HOST", defaults.host) or defaults.host,
            port=int(number("PORT", defaults.port, int)),
            workers=int(number("WORKERS", defaults.workers, int)),
            public_url=(text("PUBLIC_URL", None) or "").rstrip("/") or None,
            sms_gateway=_gateway(text("SMS_GATEWAY", defaults.sms_gateway) or "console"),
            default_region=text("DEFAULT_REGION", defaults.default_region) or "GB",
            max_segments=int(number("SMS_MAX_SEGMENTS", defaults.max_segments, int)),
            scheduler_interval=number("SCHEDULER_INTERVAL", defaults.scheduler_interval, float),
            publish_poll_interval=number(
                "PUBLISH_POLL_INTERVAL", defaults.publish_poll_interval, float
            ),
            send_rate=number("SEND_RATE", defaults.send_rate, float),
            log_format=text("LOG_FORMAT", defaults.log_format) or "console",
            log_level=text("LOG_LEVEL", defaults.log_level) or "INFO",
            demo=(text("DEMO", "") or "").lower() in ("1", "true", "yes"),
            twilio_account_sid=text("TWILIO_ACCOUNT_SID", None),
            twilio_auth_token=text("TWILIO_AUTH_TOKEN", None),
            twilio_from=text("TWILIO_FROM", None),
            twilio_api_base=(text("TWILIO_API_BASE", defaults.twilio_api_base) or "").rstrip("/"),
            kannel_sendsms_url=text("KANNEL_SENDSMS_URL", defaults.kannel_sendsms_url) or "",
            kannel_username=text("KANNEL_USERNAME", None),
            kannel_password=text("KANNEL_PASSWORD", None),
            kannel_from=text("KANNEL_FROM", None),
            kannel_inbound_token=text("KANNEL_INBOUND_TOKEN", None),
            kannel_status_url=text("KANNEL_STATUS_URL", None),
            notify_api_key=text("NOTIFY_API_KEY", None),
            notify_template_id=text("NOTIFY_TEMPLATE_ID", None),
            notify_sms_sender_id=text("NOTIFY_SMS_SENDER_ID", None),
            notify_api_base=(text("NOTIFY_API_BASE", defaults.notify_api_base) or "").rstrip("/"),
            notify_callback_token=text("NOTIFY_CALLBACK_TOKEN", None),
            audit_signing_key=text("AUDIT_SIGNING_KEY", None),
            audit_checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir else None,
            audit_checkpoint_every=duration(
                "AUDIT_CHECKPOINT_EVERY", defaults.audit_checkpoint_every
            ),
            retention=retention_from_env(env),
        )


def retention_variable(period: str) -> str:
    """The environment variable of a :class:`RetentionPeriods` field."""
    return f"CONSENTBOT_RETENTION_{period.upper()}"


def retention_from_env(env: Mapping[str, str]) -> RetentionPeriods:
    """Read the CONSENTBOT_RETENTION_* durations; unset ones keep their defaults."""
    periods = {}
    for period in fields(RetentionPeriods):
        name = retention_variable(period.name)
        raw = env.get(name)
        if raw in (None, ""):
            continue
        try:
            periods[period.name] = parse_duration(raw)
        except DurationError as error:
            raise SettingsError(f"{name}: {error}") from error
    return RetentionPeriods(**periods)


def _networks_or_none(listed: tuple[str, ...]) -> tuple[str, ...]:
    """``none`` (alone) allows no address: only the bearer token reads /metrics."""
    return () if tuple(part.lower() for part in listed) == ("none",) else listed


def _gateway(name: str) -> Gateway:
    for gateway in GATEWAYS:
        if gateway == name:
            return gateway
    raise SettingsError(
        f"CONSENTBOT_SMS_GATEWAY must be one of {', '.join(GATEWAYS)}, not {name!r}"
    )
