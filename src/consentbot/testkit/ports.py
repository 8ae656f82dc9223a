"""Free TCP ports on the loopback interface, for servers started by tests and benchmarks."""

from __future__ import annotations

import socket

LOCALHOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports on 127.0.0.1 that nothing listens on right now.

    The sockets stay open until all are chosen, so the ports differ from each other; another
    process may still take one before the caller binds it, which tests accept.
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOCALHOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    (port,) = free_ports(1)
    return port
