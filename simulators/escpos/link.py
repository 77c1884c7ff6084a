"""What every simulated printer link shares: the printer behind it, how the
simulator control describes it, and (for the TCP and serial links) a thread
that serves the link and follows the printer being unplugged and plugged back in."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from typing import Any, ClassVar

from simulators.escpos.printer import SimulatedPrinter

__all__ = ["JOIN_TIMEOUT", "PrinterLink", "ThreadedLink"]

log = logging.getLogger(__name__)

#: How long `ThreadedLink.stop` waits for the link thread.
JOIN_TIMEOUT = 5.0
READ_SIZE = 4096


class PrinterLink:
    """A way to reach a `SimulatedPrinter`: ``link`` is ``usb``, ``tcp`` or ``serial``,
    ``where`` tells the host where to find it."""

    kind: ClassVar[str] = "printer"
    link: ClassVar[str] = ""

    def __init__(self, printer: SimulatedPrinter) -> None:
        self.printer = printer

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.printer.id!r}, {self.where!r})"

    def __enter__(self) -> PrinterLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def id(self) -> str:
        return self.printer.id

    @property
    def where(self) -> str:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What `sim list` shows of the printer."""
        return {**self.printer.describe(), "link": self.link, "where": self.where}

    def snapshot(self) -> dict[str, Any]:
        """What `sim show` shows of the printer."""
        return {**self.printer.snapshot(), "link": self.link, "where": self.where}


class ThreadedLink(PrinterLink):
    """A link served by one thread that waits on the link's file descriptors and a
    wake-up pipe.

    Subclasses open and close the port (`_open`, `_close`), say which
    descriptors to wait on (`_readers`) and handle one that is readable
    (`_ready`). The printer's fault changes wake the thread, which then opens
    or closes the port to match `SimulatedPrinter.plugged`.
    """

    def __init__(self, printer: SimulatedPrinter) -> None:
        super().__init__(printer)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self._wake_r: int | None = None
        self._wake_w: int | None = None

    def start(self) -> None:
        """Open the port (if the printer is plugged in) and start the link thread."""
        if self._thread is not None or self._stopping:
            raise RuntimeError(f"link of printer {self.id!r} was already started")
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        try:
            self._follow_plug()
        except BaseException:
            self._close_pipe()
            raise
        self.printer.watch(self._wake)
        self._thread = threading.Thread(
            target=self._run, name=f"sim-printer-{self.id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the port. Safe to repeat."""
        self._stopping = True
        self.printer.unwatch(self._wake)
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._wake()
            thread.join(JOIN_TIMEOUT)
        self._close()
        self._close_pipe()

    # --- for subclasses ---------------------------------------------------------------

    def _open(self) -> None:
        """Open the port (the printer was plugged in)."""
        raise NotImplementedError

    def _close(self) -> None:
        """Close the port if it is open (the printer was unplugged). Safe to repeat."""
        raise NotImplementedError

    @property
    def _is_open(self) -> bool:
        raise NotImplementedError

    def _readers(self) -> list[Any]:
        """What the thread waits on besides the wake-up pipe."""
        raise NotImplementedError

    def _ready(self, reader: Any) -> None:
        """``reader`` (one of `_readers`) is readable."""
        raise NotImplementedError

    # --- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping:
                assert self._wake_r is not None
                ready, _, _ = select.select([self._wake_r, *self._readers()], [], [])
                if self._wake_r in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, READ_SIZE)
                    if self._stopping:
                        return
                    try:
                        self._follow_plug()
                    except OSError as error:
                        log.warning(
                            "printer %s: cannot plug the %s link back in: %s",
                            self.id,
                            self.link,
                            error,
                        )
                    continue
                for reader in ready:
                    self._ready(reader)
        except Exception:
            log.exception("printer %s: the %s link thread failed", self.id, self.link)

    def _follow_plug(self) -> None:
        if self.printer.plugged and not self._is_open:
            self._open()
        elif not self.printer.plugged and self._is_open:
            self._close()

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
