"""Configuration from ``CONSENTBOT_*`` environment variables (documented in docs/configuration.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from consentbot.domain.durations import DurationError, parse_duration
from consentbot.loopback import is_loopback


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


GATEWAYS = ("console", "twilio", "kannel")
KANNEL_TOKEN_MIN_LENGTH = 24
"""Long enough that guessing the shared secret on Kannel's get-url is hopeless."""


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
        self._check_inbound_security(serving=serving)
        if self.demo and self.sms_gateway != "console":
            raise SettingsError(
                "demo mode shortens cooling-off and only runs with the console gateway"
            )
        if self.log_format not in ("console", "json"):
            raise SettingsError("CONSENTBOT_LOG_FORMAT must be console or json")
        if self.max_segments < 1:
            raise SettingsError("CONSENTBOT_SMS_MAX_SEGMENTS must be at least 1")

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
                    "have no authentication. Set CONSENTBOT_SMS_GATEWAY to twilio or kannel"
                )
            if not is_loopback(self.host):
                raise SettingsError(
                    f"the console gateway only listens on this machine (127.0.0.1, ::1 or "
                    f"localhost), not on {self.host!r}: its routes let anyone who can reach them "
                    "text as any number and read every reply. Use --host 127.0.0.1, or a real "
                    "gateway (CONSENTBOT_SMS_GATEWAY=twilio or kannel)"
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
        )
