"""A simulated ZKTeco terminal on TCP (port 4370 on a real one; here 127.0.0.1 and a
free port by default), served by one thread.

The thread waits on the listening socket, the host's connection, the
connections a reboot left behind and a wake-up pipe the terminal's watchers
write to (a punch queued a live event, a fault changed). Like the terminal
it serves one host at a time: further connections wait in the listen
backlog until the first one closes.

A reboot is what the host would see of a real one. The connection is not
closed (no FIN, no RST): the terminal stops reading and answering it, and the
listening socket closes, so new connections are refused until the reboot is
over. Then the terminal listens again on the same port, and the connection
from before is reset (RST) as soon as the host sends on it or closes it, as a
terminal that has forgotten it would; a host that only waits for events
notices nothing until its own deadline.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import struct
import threading
from typing import Any, ClassVar

from simulators.zk.terminal import SimulatedTerminal

__all__ = ["JOIN_TIMEOUT", "TerminalLink"]

log = logging.getLogger(__name__)

#: How long `TerminalLink.stop` waits for the link thread.
JOIN_TIMEOUT = 5.0
READ_SIZE = 65536
BACKLOG = 5


def _reset(connection: socket.socket) -> None:
    """Close ``connection`` with an RST rather than a FIN."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


class TerminalLink:
    """``terminal`` on TCP ``host``:``port``; port 0 takes a free one at `start`."""

    kind: ClassVar[str] = "terminal"
    link: ClassVar[str] = "tcp"

    def __init__(self, terminal: SimulatedTerminal, host: str = "127.0.0.1", port: int = 0) -> None:
        self.terminal = terminal
        self.host = host
        self._port = port
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._client_boot = 0
        self._stale: list[socket.socket] = []
        self._outbox = bytearray()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        self._counts = dict.fromkeys(
            ("connections", "connections_reset", "bytes_in", "bytes_out"), 0
        )

    def __repr__(self) -> str:
        return f"TerminalLink({self.id!r}, {self.url!r})"

    def __enter__(self) -> TerminalLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def id(self) -> str:
        return self.terminal.id

    @property
    def port(self) -> int:
        """The port listened on (0 before a free port was taken at `start`)."""
        return self._port

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self._port}"

    @property
    def where(self) -> str:
        return self.url

    @property
    def counters(self) -> dict[str, int]:
        return dict(self._counts)

    def describe(self) -> dict[str, Any]:
        """What `sim list` shows of the terminal."""
        return {**self.terminal.describe(), "link": self.link, "where": self.where}

    def snapshot(self) -> dict[str, Any]:
        """What `sim show` shows of the terminal."""
        return {
            **self.terminal.snapshot(),
            "link": self.link,
            "where": self.where,
            "link_counters": self.counters,
        }

    # --- start and stop ------------------------------------------------------------

    def start(self) -> None:
        """Listen (unless the terminal is rebooting) and start the link thread."""
        if self._thread is not None or self._stopping:
            raise RuntimeError(f"link of terminal {self.id!r} was already started")
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        try:
            self._follow()
        except BaseException:
            self._close_pipe()
            raise
        self.terminal.watch(self._wake)
        self._thread = threading.Thread(
            target=self._run, name=f"sim-terminal-{self.id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close every socket. Safe to repeat."""
        self._stopping = True
        self.terminal.unwatch(self._wake)
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._wake()
            thread.join(JOIN_TIMEOUT)
        self._drop_client()
        for connection in self._stale:
            connection.close()
        self._stale.clear()
        self._close_listener()
        self._close_pipe()

    # --- the thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._follow()
                if self._client is not None:
                    self._outbox += self.terminal.take_outgoing()
                wake = self._wake_r
                assert wake is not None
                readers: list[Any] = [wake]
                if self._client is not None:
                    readers.append(self._client)
                elif self._listener is not None:
                    readers.append(self._listener)
                if self._listener is not None:
                    readers += self._stale
                writers = [self._client] if self._client is not None and self._outbox else []
                timeout = self.terminal.reboot_seconds_left()
                readable, writable, _ = select.select(readers, writers, [], timeout)
                if wake in readable:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake, READ_SIZE)
                self._follow()  # a reboot while waiting: what was readable is not served
                for ready in readable:
                    self._readable(ready)
                if writable and self._client is not None:
                    self._send()
        except Exception:
            log.exception("terminal %s: the link thread failed", self.id)

    def _follow(self) -> None:
        """Match the sockets to the terminal: a reboot leaves the connection behind
        and closes the listener; a terminal that is up again listens."""
        if self._client is not None and self.terminal.boot != self._client_boot:
            self._stale.append(self._client)
            self._client = None
            self._outbox.clear()
        if self.terminal.accepting and self._listener is None and not self._stopping:
            try:
                self._listen()
            except OSError as error:
                log.warning("terminal %s: cannot listen on %s: %s", self.id, self.url, error)
        elif not self.terminal.accepting and self._listener is not None:
            self._close_listener()

    def _readable(self, ready: Any) -> None:
        if ready is self._listener:
            self._accept()
        elif ready is self._client:
            self._serve()
        elif ready in self._stale and self._listener is not None:
            self._stale.remove(ready)
            _reset(ready)
            self._counts["connections_reset"] += 1

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Listening again on the same port after a reboot must not wait for TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self._port))
            listener.listen(BACKLOG)
        except BaseException:
            listener.close()
            raise
        self._port = listener.getsockname()[1]
        self._listener = listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except OSError as error:
            log.debug("terminal %s: accept failed: %s", self.id, error)
            return
        client.setblocking(False)
        self._client = client
        self._client_boot = self.terminal.boot
        self._counts["connections"] += 1
        self.terminal.connection_opened()

    def _serve(self) -> None:
        assert self._client is not None
        try:
            data = self._client.recv(READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop_client()
            return
        self._counts["bytes_in"] += len(data)
        self._outbox += self.terminal.receive(data)

    def _send(self) -> None:
        assert self._client is not None
        try:
            sent = self._client.send(self._outbox)
        except BlockingIOError:
            return
        except OSError:
            self._drop_client()
            return
        del self._outbox[:sent]
        self._counts["bytes_out"] += sent

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self._outbox.clear()
            self.terminal.connection_closed()

    def _wake(self) -> None:
        with self._lock:
            if self._wake_w is None:
                return
            # A full pipe means the thread is woken already.
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"\0")

    def _close_pipe(self) -> None:
        with self._lock:
            for fd in (self._wake_r, self._wake_w):
                if fd is not None:
                    os.close(fd)
            self._wake_r = self._wake_w = None
