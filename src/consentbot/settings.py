"""Configuration from ``CONSENTBOT_*`` environment variables (documented in docs/configuration.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path

from consentbot.domain.durations import DurationError, format_duration, parse_duration
from consentbot.domain.retention import MINIMUM_PERIOD, RetentionPeriods


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


GATEWAYS = ("console", "twilio", "kannel")


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start. Build with :meth:`from_env` or directly in tests."""

    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str | None = None
    content_dir: Path = Path("content")
    locales_dir: Path = Path("locales")
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    sms_gateway: str = "console"
    default_region: str = "GB"
    max_segments: int = 6
    scheduler_interval: float = 1.0
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

    def check(self) -> None:
        """Raise :class:`SettingsError` for a combination that cannot work."""
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
        if self.demo and self.sms_gateway != "console":
            raise SettingsError(
                "demo mode shortens cooling-off and only runs with the console gateway"
            )
        if self.log_format not in ("console", "json"):
            raise SettingsError("CONSENTBOT_LOG_FORMAT must be console or json")
        if self.max_segments < 1:
            raise SettingsError("CONSENTBOT_SMS_MAX_SEGMENTS must be at least 1")
        if short := self.retention.too_short():
            name = short[0]
            raise SettingsError(
                f"{retention_variable(name)} must be at least {format_duration(MINIMUM_PERIOD)} "
                f"(one day), not {format_duration(getattr(self.retention, name))}: code rate "
                "limits count the last day's codes and gateways retry messages for hours"
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

        demo_cooling_off = defaults.demo_cooling_off
        if raw_demo := text("DEMO_COOLING_OFF", None):
            try:
                demo_cooling_off = parse_duration(raw_demo)
            except DurationError as error:
                raise SettingsError(f"CONSENTBOT_DEMO_COOLING_OFF: {error}") from error
        return cls(
            demo_cooling_off=demo_cooling_off,
            data_dir=Path(text("DATA_DIR", str(defaults.data_dir)) or "var"),
            database_url=text("DATABASE_URL", "") or "",
            secret_key=text("SECRET_KEY", None),
            content_dir=Path(text("CONTENT_DIR", str(defaults.content_dir)) or "content"),
            locales_dir=Path(text("LOCALES_DIR", str(defaults.locales_dir)) or "locales"),
            host=text("HOST", defaults.host) or defaults.host,
            port=int(number("PORT", defaults.port, int)),
            public_url=(text("PUBLIC_URL", None) or "").rstrip("/") or None,
            sms_gateway=text("SMS_GATEWAY", defaults.sms_gateway) or "console",
            default_region=text("DEFAULT_REGION", defaults.default_region) or "GB",
            max_segments=int(number("SMS_MAX_SEGMENTS", defaults.max_segments, int)),
            scheduler_interval=number("SCHEDULER_INTERVAL", defaults.scheduler_interval, float),
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
