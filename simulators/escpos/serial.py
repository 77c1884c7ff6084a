"""A serial ticket printer on a pseudo-terminal, reached through a stable symlink.

The host opens ``path`` with pyserial as it would open ``/dev/ttyUSB0``; the
link thread reads what the host writes from the pty's controller side and
writes the printer's answers back. ``unplug`` closes the pty as pulling a
USB-serial adapter out would (the host's reads see end of file, its writes
fail, bytes not yet read are lost) and removes ``path``; ``ok`` makes a new
pty and points ``path`` at it, and the host must open it again. This is how
`simulators.rs485.bus` does it.
"""

from __future__ import annotations

import errno
import os
import tty
from pathlib import Path
from typing import Any

from simulators.escpos.link import READ_SIZE, ThreadedLink
from simulators.escpos.printer import SimulatedPrinter
from simulators.stable_path import point_path_at, remove_path

__all__ = ["SerialPrinterLink"]


class SerialPrinterLink(ThreadedLink):
    """`printer` behind a pty whose follower side ``path`` links to. ``baud`` is only
    reported: a pty moves bytes at any speed."""

    link = "serial"

    def __init__(self, printer: SimulatedPrinter, path: Path | str, baud: int = 19200) -> None:
        super().__init__(printer)
        self.path = Path(path)
        self.baud = baud
        self._controller: int | None = None
        self._follower: int | None = None
        self._tty: str | None = None
        self._counts = {"answer_bytes_lost": 0}

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def tty(self) -> str | None:
        """The pty's device name while plugged in."""
        return self._tty

    @property
    def counters(self) -> dict[str, int]:
        return dict(self._counts)

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "baud": self.baud,
            "tty": self._tty,
            "link_counters": self.counters,
        }

    # --- the port ----------------------------------------------------------------------

    @property
    def _is_open(self) -> bool:
        return self._controller is not None

    def _open(self) -> None:
        controller, follower = os.openpty()
        try:
            tty.setraw(follower)
            os.set_blocking(controller, False)
            name = os.ttyname(follower)
            point_path_at(self.path, name)
        except BaseException:
            os.close(controller)
            os.close(follower)
            raise
        # The link keeps the follower open too: with it closed, reading the
        # controller fails with EIO, and the host closing its port is no unplug.
        self._controller, self._follower, self._tty = controller, follower, name

    def _close(self) -> None:
        remove_path(self.path, self._tty)
        for fd in (self._controller, self._follower):
            if fd is not None:
                os.close(fd)
        self._controller = self._follower = self._tty = None

    def _readers(self) -> list[Any]:
        return [self._controller] if self._controller is not None else []

    def _ready(self, reader: Any) -> None:
        assert self._controller is not None
        try:
            data = os.read(self._controller, READ_SIZE)
        except BlockingIOError:
            return
        answers = self.printer.receive(data)
        if answers:
            self._answer(answers)

    def _answer(self, answers: bytes) -> None:
        """Hand the answers to the host; what does not fit in the pty's buffer is lost."""
        assert self._controller is not None
        try:
            written = os.write(self._controller, answers)
        except BlockingIOError:
            written = 0
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            written = 0
        self._counts["answer_bytes_lost"] += len(answers) - written
