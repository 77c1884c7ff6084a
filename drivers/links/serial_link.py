"""A serial link on pyserial's `serial_for_url`: /dev/... paths, socket://,
rfc2217:// and the rest of pyserial's URL handlers.

The one thread that owns a link reads with a deadline and writes whole
frames. A port-level failure (the adapter pulled out, EIO, ENODEV, the
socket closed) raises `LinkError`, after which the link must be closed and
reopened; a read that times out returns b"" and is not an error.

pyserial traps handled here: a USB adapter that vanishes makes the port
"readable" forever with nothing to read, which pyserial reports as a
SerialException on read; a pty whose other side closed gives EIO; after
either, the port object is useless and must be rebuilt.
"""

from __future__ import annotations

import contextlib
import os
import select

import serial

BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit (8N1)
READ_CHUNK = 4096
POLL_WITHOUT_FILENO = 0.005  # for handlers with no file descriptor (rfc2217://)


class LinkError(Exception):
    """The port itself failed; close the link and open it again."""


class SerialLink:
    def __init__(self, url: str, baudrate: int) -> None:
        self.url = url
        self.baudrate = baudrate
        self._port: serial.SerialBase | None = None
        self._fileno: int | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def byte_seconds(self, count: int = 1) -> float:
        """Time `count` bytes take on the wire at this link's speed."""
        return count * BITS_PER_BYTE / self.baudrate

    def open(self) -> None:
        """Open the port, exclusively where the handler supports locking."""
        self.close()
        try:
            port = serial.serial_for_url(
                self.url, baudrate=self.baudrate, timeout=0, write_timeout=2, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"cannot open {self.url}: {exc}") from exc
        try:
            self._fileno = port.fileno()
        except (AttributeError, OSError, serial.SerialException):
            self._fileno = None  # rfc2217:// reads in a thread of its own
            port.timeout = POLL_WITHOUT_FILENO
        self._port = port

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # a vanished port may fail to close; it is gone either way
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def read(self, timeout: float) -> bytes:
        """Bytes that arrive within `timeout` seconds; b"" if none or if `wake()`
        was called. Raises LinkError if the port failed."""
        port = self._require_open()
        fileno = self._fileno
        try:
            if fileno is None:
                return port.read(READ_CHUNK)
            ready, _, _ = select.select([fileno, self._wake_r], [], [], max(timeout, 0))
            if self._wake_r in ready:
                self._drain_wake()
            if fileno not in ready:
                return b""
            data = port.read(READ_CHUNK)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.url}: {exc}") from exc
        if not data:
            # readable with nothing to read: the device is gone (pyserial's
            # posix read raises for this itself; other handlers may not)
            raise LinkError(f"{self.url}: the port reports data but returns none")
        return data

    def read_now(self) -> bytes:
        """Bytes that have arrived already, without waiting; raises LinkError if the
        port failed."""
        port = self._require_open()
        try:
            waiting = port.in_waiting
            return port.read(waiting) if waiting else b""
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.url}: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Write all of `data`; raises LinkError if the port failed."""
        port = self._require_open()
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.url}: {exc}") from exc

    def wake(self) -> None:
        """End a `read` waiting in another thread, e.g. when there is something to send."""
        with contextlib.suppress(BlockingIOError):  # a wake-up is already pending
            os.write(self._wake_w, b"x")

    def dispose(self) -> None:
        self.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _require_open(self) -> serial.SerialBase:
        if self._port is None:
            raise LinkError(f"{self.url} is not open")
        return self._port

    def _drain_wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 64):
                pass
