"""The address of the client behind a request, believing only proxies we were told to trust."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


def trusted_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """Parse ``CONSENTBOT_TRUSTED_PROXIES`` (addresses or networks; settings checked them)."""
    return tuple(ip_network(proxy, strict=False) for proxy in proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    """The client's address.

    The TCP peer, unless it is a trusted proxy: then the right-most address in
    X-Forwarded-For that is not itself a trusted proxy. Everything left of that was
    written by the client and could be anything, so it is never believed.
    """
    address = peer or "unknown"
    if not forwarded_for or not _is_trusted(address, trusted):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not _is_trusted(hop, trusted):
            return hop if _is_address(hop) else address
    return address


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(text: str, trusted: tuple[Network, ...]) -> bool:
    try:
        address = ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in trusted)
