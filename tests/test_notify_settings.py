"""The Notify settings: each is named when wrong, the key's secret never appears, and the
service refuses to serve without them."""

from __future__ import annotations

import pytest

from consentbot.settings import Settings, SettingsError
from consentbot.testkit.notify import API_KEY, CALLBACK_TOKEN, SECRET, SMS_SENDER_ID, TEMPLATE_ID

ENV = {
    "CONSENTBOT_SMS_GATEWAY": "notify",
    "CONSENTBOT_NOTIFY_API_KEY": API_KEY,
    "CONSENTBOT_NOTIFY_TEMPLATE_ID": TEMPLATE_ID,
    "CONSENTBOT_NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
}


def test_the_environment_configures_notify() -> None:
    settings = Settings.from_env(
        ENV
        | {
            "CONSENTBOT_NOTIFY_SMS_SENDER_ID": SMS_SENDER_ID,
            "CONSENTBOT_NOTIFY_API_BASE": "http://127.0.0.1:6011/",
        }
    )
    settings.check()
    assert settings.sms_gateway == "notify"
    assert settings.notify_sms_sender_id == SMS_SENDER_ID
    assert settings.notify_api_base == "http://127.0.0.1:6011"
    assert SECRET not in repr(settings)
    assert CALLBACK_TOKEN not in repr(settings)


def test_the_api_base_defaults_to_notifys_and_the_sender_id_is_optional() -> None:
    settings = Settings.from_env(ENV)
    settings.check()
    assert settings.notify_api_base == "https://api.notifications.service.gov.uk"
    assert settings.notify_sms_sender_id is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CONSENTBOT_NOTIFY_API_KEY", None, "CONSENTBOT_NOTIFY_API_KEY is required"),
        ("CONSENTBOT_NOTIFY_API_KEY", API_KEY[:-1], "CONSENTBOT_NOTIFY_API_KEY is not a Notify API key"),
        ("CONSENTBOT_NOTIFY_API_KEY", SECRET, "CONSENTBOT_NOTIFY_API_KEY is not a Notify API key"),
        ("CONSENTBOT_NOTIFY_TEMPLATE_ID", None, "CONSENTBOT_NOTIFY_TEMPLATE_ID is required"),
        ("CONSENTBOT_NOTIFY_TEMPLATE_ID", "welcome", "CONSENTBOT_NOTIFY_TEMPLATE_ID must be a UUID"),
        ("CONSENTBOT_NOTIFY_SMS_SENDER_ID", "GOVUK", "CONSENTBOT_NOTIFY_SMS_SENDER_ID must be a UUID"),
        ("CONSENTBOT_NOTIFY_API_BASE", "api.notifications.service.gov.uk",
         "CONSENTBOT_NOTIFY_API_BASE must be an https URL"),
        ("CONSENTBOT_NOTIFY_API_BASE", "http://api.notifications.service.gov.uk",
         "CONSENTBOT_NOTIFY_API_BASE must be an https URL (http only on this machine"),
        ("CONSENTBOT_NOTIFY_CALLBACK_TOKEN", None,
         "CONSENTBOT_NOTIFY_CALLBACK_TOKEN must be set to at least 10 characters with the notify "
         "gateway (it is not set)"),
        ("CONSENTBOT_NOTIFY_CALLBACK_TOKEN", "123456789",
         "CONSENTBOT_NOTIFY_CALLBACK_TOKEN must be set to at least 10 characters with the notify "
         "gateway (it has 9)"),
    ],
)  # fmt: skip
def test_a_missing_or_malformed_setting_refuses_to_serve_and_names_it(
    name: str, value: str | None, message: str
) -> None:
    env = {key: val for key, val in ENV.items() if key != name}
    if value is not None:
        env[name] = value
    settings = Settings.from_env(env)
    for serving in (True, False):
        with pytest.raises(SettingsError) as caught:
            settings.check(serving=serving)
        assert str(caught.value).startswith(message)
        assert SECRET not in str(caught.value)
        assert SECRET[:-1] not in str(caught.value)


def test_a_ten_character_callback_token_is_enough() -> None:
    Settings.from_env(ENV | {"CONSENTBOT_NOTIFY_CALLBACK_TOKEN": "0123456789"}).check()
