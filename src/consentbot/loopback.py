"""Whether an address is this machine: what the console gateway allows."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and any loopback address (127.0.0.0/8, ``::1``, ``::ffff:127.x``).

    ``None`` and anything unparsable (a hostname other than localhost, ``0.0.0.0``) are not.
    """
    if host is None:
        return False
    name = host.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
