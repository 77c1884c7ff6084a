"""A fingerprint module on a pseudo-terminal, reached through a stable symlink.

The host opens ``path`` with pyserial (57600 8N1) as it would open the
module's USB-serial adapter; the link's one thread reads what the host writes
from the pty's controller side, hands it to the module and writes the
module's answers back. Answers come at once: a real module takes a few
hundred milliseconds for GenImg and Search, which the host's deadline must
allow for, but the simulator does not make tests wait for it.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import threading
import tty
from pathlib import Path
from typing import Any, ClassVar

from simulators.r30x.module import SimulatedFingerprintModule
from simulators.stable_path import point_path_at, remove_path

__all__ = ["BAUD", "JOIN_TIMEOUT", "SerialFingerprintLink"]

log = logging.getLogger(__name__)

BAUD = 57600
#: How long `SerialFingerprintLink.stop` waits for the link thread.
JOIN_TIMEOUT = 5.0
READ_SIZE = 4096


class SerialFingerprintLink:
    """``module`` behind a pty whose follower side ``path`` links to. ``baud`` is only
    reported: a pty moves bytes at any speed."""

    kind: ClassVar[str] = SimulatedFingerprintModule.kind
    link: ClassVar[str] = "serial"

    def __init__(
        self, module: SimulatedFingerprintModule, path: Path | str, baud: int = BAUD
    ) -> None:
        self.module = module
        self.path = Path(path)
        self.baud = baud
        self._controller: int | None = None
        self._follower: int | None = None
        self._tty: str | None = None
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._lost = 0

    def __repr__(self) -> str:
        return f"SerialFingerprintLink({self.module.id!r}, {str(self.path)!r})"

    def __enter__(self) -> SerialFingerprintLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def id(self) -> str:
        return self.module.id

    @property
    def tty(self) -> str | None:
        """The pty's device name while started."""
        return self._tty

    def start(self) -> None:
        """Make the pty, point ``path`` at it and start the link thread."""
        if self._thread is not None or self._stopping:
            raise RuntimeError(f"link of fingerprint reader {self.id!r} was already started")
        controller, follower = os.openpty()
        self._controller, self._follower = controller, follower
        try:
            tty.setraw(follower)
            os.set_blocking(controller, False)
            self._tty = os.ttyname(follower)
            point_path_at(self.path, self._tty)
            self._wake_r, self._wake_w = os.pipe()
        except BaseException:
            self._close()
            raise
        self._thread = threading.Thread(
            target=self._run, name=f"sim-fingerprint-{self.id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, close the pty and remove ``path``. Safe to repeat."""
        self._stopping = True
        thread = self._thread
        if thread is not None and thread.is_alive():
            assert self._wake_w is not None
            os.write(self._wake_w, b"\0")
            thread.join(JOIN_TIMEOUT)
        self._close()

    def _close(self) -> None:
        remove_path(self.path, self._tty)
        # The follower stays open while the link runs: with it closed, reading the
        # controller fails with EIO whenever the host has its port closed.
        for fd in (self._controller, self._follower, self._wake_r, self._wake_w):
            if fd is not None:
                os.close(fd)
        self._controller = self._follower = self._wake_r = self._wake_w = None
        self._tty = None

    def describe(self) -> dict[str, Any]:
        """What `sim list` shows of the reader."""
        return {**self.module.describe(), "link": self.link, "path": str(self.path)}

    def snapshot(self) -> dict[str, Any]:
        """What `sim show` shows of the reader."""
        return {
            **self.module.snapshot(),
            "link": self.link,
            "path": str(self.path),
            "baud": self.baud,
            "tty": self._tty,
            "answer_bytes_lost": self._lost,
        }

    def _run(self) -> None:
        controller, wake = self._controller, self._wake_r
        assert controller is not None and wake is not None
        try:
            while not self._stopping:
                ready, _, _ = select.select([controller, wake], [], [])
                if wake in ready:
                    return
                try:
                    data = os.read(controller, READ_SIZE)
                except BlockingIOError:
                    continue
                answers = self.module.receive(data)
                if answers:
                    self._answer(controller, answers)
        except Exception:
            log.exception("fingerprint reader %s: the serial link thread failed", self.id)

    def _answer(self, controller: int, answers: bytes) -> None:
        """Hand the answers to the host; what does not fit in the pty's buffer is lost."""
        try:
            written = os.write(controller, answers)
        except BlockingIOError:
            written = 0
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            written = 0
        self._lost += len(answers) - written
