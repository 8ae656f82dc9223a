"""Run the real ``consentbot`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestServer

from consentbot.settings import Settings
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SERVICE_NUMBER


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTBOT_")}
    env.update({
        "CONSENTBOT_DATABASE_URL": settings.effective_database_url,
        "CONSENTBOT_DATA_DIR": str(settings.data_dir),
        "CONSENTBOT_SECRET_KEY": settings.secret_key or "",
        "CONSENTBOT_PREVIOUS_SECRET_KEYS": ",".join(settings.previous_secret_keys),
        "CONSENTBOT_CONTENT_DIR": str(settings.content_dir),
        "CONSENTBOT_LOCALES_DIR": str(settings.locales_dir),
        "CONSENTBOT_LOG_LEVEL": "WARNING",
        "CONSENTBOT_SEND_RATE": str(settings.send_rate),
    })
    if settings.audit_signing_key:
        env["CONSENTBOT_AUDIT_SIGNING_KEY"] = settings.audit_signing_key
    return env


def consentbot(settings: Settings, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentbot", *args],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def twilio_env(settings: Settings, twilio_server: TestServer) -> dict[str, str]:
    """The service's environment with the twilio gateway pointed at the fake in this process."""
    return env_for(settings) | {
        "CONSENTBOT_SMS_GATEWAY": "twilio",
        "CONSENTBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CONSENTBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CONSENTBOT_TWILIO_FROM": SERVICE_NUMBER,
        "CONSENTBOT_TWILIO_API_BASE": str(twilio_server.make_url("")).rstrip("/"),
        "CONSENTBOT_PUBLIC_URL": PUBLIC_URL,
        "CONSENTBOT_SCHEDULER_INTERVAL": "0.1",
    }
