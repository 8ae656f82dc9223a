"""Which numbers the service may start texting."""

from __future__ import annotations

import pytest

from consentbot.store.phones import PhoneNumberError, SendingPolicy

UK = SendingPolicy.of(["GB"], "GB", demo=False)


@pytest.mark.parametrize("raw", ["07400 123456", "+44 7400 123456", "07123 456789"])
def test_uk_mobiles_may_be_texted(raw: str) -> None:
    assert UK.sendable(raw).startswith("+447")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("+2348031234567", "not a mobile number from GB"),  # a Nigerian mobile
        ("+8821234567", "not a number in use"),  # international networks
        ("+441610000000", "not a mobile number"),  # a landline
        ("07700 900123", "not a number in use"),  # Ofcom's drama range
        ("+44 7624 123456", "not a mobile number from GB"),  # Isle of Man
        ("hello", "not a phone number"),
    ],
)
def test_other_numbers_are_refused_with_the_reason(raw: str, why: str) -> None:
    with pytest.raises(PhoneNumberError, match=why):
        UK.sendable(raw)


def test_demo_mode_allows_the_drama_range_only() -> None:
    demo = SendingPolicy.of(["GB"], "GB", demo=True)
    assert demo.sendable("07700 900123") == "+447700900123"
    with pytest.raises(PhoneNumberError):
        demo.sendable("+2348031234567")


def test_more_regions_can_be_allowed() -> None:
    both = SendingPolicy.of(["gb", "PL"], "GB", demo=False)
    assert both.sendable("+48 600 111 301") == "+48600111301"
