"""systemd's notify protocol (sd_notify(3)): datagrams of `KEY=value` lines
to the socket named by $NOTIFY_SOCKET, a path or, when it starts with '@', a
name in the abstract namespace.

Written out rather than taken from PyPI: the protocol is one `sendto`, the
pure-Python packages swallow every error and do not read the watchdog
interval, and systemd-python needs libsystemd headers to build on the hall
PC. Without $NOTIFY_SOCKET (not started by systemd) nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_seconds = _watchdog_seconds(env)
        self._socket: socket.socket | None = None
        if self.address is not None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.setblocking(False)  # sent from the event loop: never wait
        self._failing = False

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, **fields: str | int) -> bool:
        """Send `KEY=value` lines (`send(READY=1, STATUS="...")`); False if
        there is no socket or the datagram could not be sent."""
        if self._socket is None or self.address is None:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            self._socket.sendto(message.encode(), self.address)
        except OSError as exc:
            if not self._failing:  # once, not at every watchdog tick
                log.warning("systemd notify socket %s: %s", _shown(self.address), exc)
            self._failing = True
            return False
        self._failing = False
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _address(value: str) -> str | bytes | None:
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    if value:
        log.warning("NOTIFY_SOCKET=%r is neither a path nor @name: not notifying systemd", value)
    return None


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """The watchdog interval systemd set for this process (WatchdogSec=), if any."""
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (our parent)
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


def _shown(address: str | bytes) -> str:
    return "@" + address[1:].decode() if isinstance(address, bytes) else address
