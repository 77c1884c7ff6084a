"""Loopback TCP ports for the simulators that listen on one."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on now (another process may take it before we do)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def can_listen(port: int) -> bool:
    """Whether a listener could bind `port` now. Bound as the simulators bind
    (SO_REUSEADDR), so the closed connections of a listener that went away
    (TIME_WAIT) do not count as taking it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True
