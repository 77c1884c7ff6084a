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

A USB adapter holds received bytes back for its latency timer (16 ms by
default on FTDI chips) before it hands them to the host. On a half-duplex
bus that is 16 ms in which the host cannot hear a device that started to
talk, and talks over it. So the link asks the driver for low-latency mode
(ASYNC_LOW_LATENCY, which sets an FTDI's timer to 1 ms); ports without the
setting (a pty, socket://, many other adapters) work as before.

An adapter that hands back what the host writes (local echo) is learned and
its copies dropped (`drivers.links.local_echo`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import time

import serial

from drivers.links.local_echo import LocalEcho

BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit (8N1)
READ_CHUNK = 4096
POLL_WITHOUT_FILENO = 0.005  # for handlers with no file descriptor (rfc2217://)

log = logging.getLogger(__name__)


class LinkError(Exception):
    """The port itself failed; close the link and open it again."""


def low_latency_mode(port: object) -> bool:
    """Ask the port's driver for low-latency mode; whether it took it."""
    setter = getattr(port, "set_low_latency_mode", None)
    if setter is None:
        return False
    try:
        setter(True)
    except (ValueError, OSError, NotImplementedError, serial.SerialException):
        return False  # pyserial says ValueError when the driver has no such setting
    return True


class SerialLink:
    def __init__(self, url: str, baudrate: int) -> None:
        self.url = url
        self.baudrate = baudrate
        self._port: serial.SerialBase | None = None
        self._fileno: int | None = None
        #: whether the driver hands received bytes over at once (see above)
        self.low_latency = False
        self._echo = LocalEcho(self.byte_seconds(), url)
        self._wake_r, self._wake_w = os.pipe()
        self._disposed = False
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    @property
    def local_echo(self) -> bool:
        """Whether the adapter hands back what the link writes (then dropped)."""
        return self._echo.on

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
        self.low_latency = low_latency_mode(port)
        if self.low_latency:
            log.info("%s: low-latency mode on", self.url)
        self._echo.reset()
        self._port = port

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # a vanished port may fail to close; it is gone either way
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def read(self, timeout: float) -> bytes:
        """Bytes that arrive within `timeout` seconds, less the adapter's copies of
        what the link wrote; b"" if none or if `wake()` was called. Raises
        LinkError if the port failed."""
        port = self._require_open()
        fileno = self._fileno
        try:
            if fileno is None:
                return self._echo.received(port.read(READ_CHUNK), time.monotonic())
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
        return self._echo.received(data, time.monotonic())

    def read_now(self) -> bytes:
        """Bytes that have arrived already, without waiting; raises LinkError if the
        port failed."""
        port = self._require_open()
        try:
            waiting = port.in_waiting
            data = port.read(waiting) if waiting else b""
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.url}: {exc}") from exc
        return self._echo.received(data, time.monotonic())

    def write(self, data: bytes) -> None:
        """Write all of `data`; raises LinkError if the port failed."""
        port = self._require_open()
        started = time.monotonic()
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.url}: {exc}") from exc
        self._echo.wrote(data, started, time.monotonic())

    def wake(self) -> None:
        """End a `read` waiting in another thread, e.g. when there is something to send.
        Does nothing once the link is disposed (a device told something while its
        bus stops)."""
        if self._disposed:
            return
        with contextlib.suppress(BlockingIOError):  # a wake-up is already pending
            os.write(self._wake_w, b"x")

    def dispose(self) -> None:
        self._disposed = True
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
