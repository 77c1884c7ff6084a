"""systemd's side of the notify protocol, for tests: an abstract AF_UNIX
datagram socket and every message with the time it arrived."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest


class NotifyListener:
    """systemd's side: every datagram with the monotonic time it arrived."""

    def __init__(self) -> None:
        self.name = f"hallkeeper-test-{uuid.uuid4().hex}"
        self.received: list[tuple[float, str]] = []
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(b"\0" + self.name.encode())
        self._socket.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._socket.recv(4096)
            except TimeoutError:
                continue
            self.received.append((time.monotonic(), data.decode()))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def messages(self, prefix: str = "") -> list[str]:
        return [text for _, text in self.received if text.startswith(prefix)]

    def pings(self) -> list[float]:
        return [at for at, text in self.received if text == "WATCHDOG=1"]


@pytest.fixture
def listener() -> Iterator[NotifyListener]:
    listening = NotifyListener()
    yield listening
    listening.close()
