"""A network ticket printer: raw TCP on port 9100 (here 127.0.0.1, a free port by default).

Like a real one it serves one client at a time: while a connection is open,
others wait in the listen backlog, their bytes unread, until it closes. It
answers status requests on the same connection. ``unplug`` closes the
connection and the listening socket (connecting is refused); ``ok`` listens
again on the same port. A printer that is ``off`` still accepts connections
and swallows bytes, printing and answering nothing (PROTOCOLS.md section 5).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from simulators.escpos.link import READ_SIZE, ThreadedLink
from simulators.escpos.printer import SimulatedPrinter

__all__ = ["TcpPrinterLink"]

log = logging.getLogger(__name__)

BACKLOG = 5


class TcpPrinterLink(ThreadedLink):
    """`printer` on TCP ``host``:``port``; port 0 takes a free one at `start`."""

    link = "tcp"

    def __init__(self, printer: SimulatedPrinter, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(printer)
        self.host = host
        self._port = port
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._counts = {"connections": 0, "answer_bytes_lost": 0}

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

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "link_counters": self.counters}

    # --- the port ----------------------------------------------------------------------

    @property
    def _is_open(self) -> bool:
        return self._listener is not None

    def _open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Listening again on the same port after an unplug must not wait for TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self._port))
            listener.listen(BACKLOG)
        except BaseException:
            listener.close()
            raise
        self._port = listener.getsockname()[1]
        self._listener = listener

    def _close(self) -> None:
        self._drop_client()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _readers(self) -> list[Any]:
        if self._client is not None:
            return [self._client]
        return [self._listener] if self._listener is not None else []

    def _ready(self, reader: Any) -> None:
        if reader is self._listener:
            self._accept()
        elif reader is self._client:
            self._serve()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except OSError as error:
            log.debug("printer %s: accept failed: %s", self.id, error)
            return
        client.setblocking(False)
        self._client = client
        self._counts["connections"] += 1

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
        answers = self.printer.receive(data)
        if answers:
            self._answer(answers)

    def _answer(self, answers: bytes) -> None:
        """Send what fits in the socket buffer; a client that never reads loses the rest."""
        assert self._client is not None
        try:
            sent = self._client.send(answers)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop_client()
            return
        self._counts["answer_bytes_lost"] += len(answers) - sent

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
