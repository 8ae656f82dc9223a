"""Settings.check: unsafe combinations refuse to start, and say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentbot.loopback import is_loopback
from consentbot.settings import Settings, SettingsError

ANY = "0.0.0.0"  # noqa: S104  (what must be refused)
POSTGRES = "postgresql+asyncpg://consentbot@db.internal/consentbot"


def kannel(token: str | None) -> Settings:
    return Settings(
        sms_gateway="kannel",
        kannel_username="bot",
        kannel_password="pw",
        kannel_inbound_token=token,
    )


@pytest.mark.parametrize(
    ("token", "detail"),
    [(None, "it is not set"), ("", "it is not set"), ("a" * 23, "it has 23")],
)
def test_kannel_needs_a_long_inbound_token(token: str | None, detail: str) -> None:
    with pytest.raises(SettingsError) as refused:
        kannel(token).check()
    message = str(refused.value)
    assert "CONSENTBOT_KANNEL_INBOUND_TOKEN must be set to at least 24 characters" in message
    assert f"({detail})" in message
    assert "as any phone number" in message  # says why
    with pytest.raises(SettingsError):
        kannel(token).check(serving=False)  # every command's dlr-url carries the token


def test_kannel_with_a_long_token_starts() -> None:
    kannel("a" * 24).check()


@pytest.mark.parametrize("host", [ANY, "::", "192.0.2.10", "consent.example.org", ""])
def test_console_gateway_only_listens_on_loopback(host: str) -> None:
    with pytest.raises(SettingsError, match=r"only listens on this machine .* not on"):
        Settings(host=host).check()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST."])
def test_console_gateway_on_loopback_starts(host: str) -> None:
    Settings(host=host).check()


def test_console_gateway_never_runs_with_postgresql() -> None:
    with pytest.raises(SettingsError, match="never with PostgreSQL"):
        Settings(database_url=POSTGRES).check()


def test_commands_that_open_no_port_skip_the_console_rules(tmp_path: Path) -> None:
    Settings(database_url=POSTGRES, host=ANY).check(serving=False)
    Settings(data_dir=tmp_path, host=ANY).check(serving=False)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        (None, False),
        (ANY, False),
        ("::", False),
        ("128.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("localhost.example.org", False),
        ("not an address", False),
    ],
)
def test_is_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_send_rate_defaults_to_ten_and_reads_fractions() -> None:
    assert Settings.from_env({}).send_rate == 10
    assert Settings.from_env({"CONSENTBOT_SEND_RATE": "0.5"}).send_rate == 0.5


@pytest.mark.parametrize("raw", ["0", "-3", "nan", "inf"])
def test_send_rate_must_be_a_number_above_zero(raw: str) -> None:
    with pytest.raises(SettingsError, match="CONSENTBOT_SEND_RATE must be a number of messages per second above 0"):
        Settings.from_env({"CONSENTBOT_SEND_RATE": raw}).check(serving=False)
    with pytest.raises(SettingsError, match="CONSENTBOT_SEND_RATE must be a number, not 'fast'"):
        Settings.from_env({"CONSENTBOT_SEND_RATE": "fast"})
