"""The client behind a request: X-Forwarded-For only from proxies we trust."""

from __future__ import annotations

from consentbot.web.client_address import client_address, trusted_networks

PROXY = trusted_networks(["10.0.0.0/8"])


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_a_stranger_cannot_pick_its_address_with_a_header() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", PROXY) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.7", PROXY) == "198.51.100.7"
    assert client_address("10.0.0.2", "198.51.100.7, 10.0.0.5", PROXY) == "198.51.100.7"


def test_garbage_in_the_header_falls_back_to_the_peer() -> None:
    assert client_address("10.0.0.2", "not-an-address", PROXY) == "10.0.0.2"
    assert client_address(None, None, PROXY) == "unknown"
