"""A simulated RS-485 bus: a pseudo-terminal the daemon opens as its serial port, the wire
behind it, and the devices on that wire.

The host opens ``path`` (a symlink to the pty's slave side) with pyserial,
exactly as it opens a USB-RS485 adapter. One thread per bus reads what the
host writes from the master side, paces it through the `Wire` model, hands it
to every device, and writes what the devices send back, paced the same way.
See `simulators.rs485.wire` for the timing and collision rules.

`unplug` closes the pty, as pulling the adapter out would: the host's next
read on the port sees end of file and its next write fails with EIO (pyserial
raises SerialException for both), and the path disappears. `replug` makes a
new pty and points the path at it; the devices keep their state.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import itertools
import logging
import os
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from simulators.rs485.port import ECHO, SPLIT_PAUSE, BusDevice, Outgoing
from simulators.rs485.wire import Wire
from simulators.stable_path import point_path_at, remove_path

__all__ = ["SimulatedBus"]

log = logging.getLogger(__name__)

T = TypeVar("T")
D = TypeVar("D", bound=BusDevice)

#: How long a caller waits for the bus thread to carry out unplug, replug or stop.
COMMAND_TIMEOUT = 5.0
#: Devices listen before they talk: a frame of their own starts only after
#: this much silence, in byte times; an answer to the host after ANSWER_BYTES.
#: The host acknowledges after 2 byte times and starts a new command after 8
#: (drivers.bus), so answers come first, then key presses, then new commands.
LISTEN_BYTES = 5.0
ANSWER_BYTES = 1.0
READ_SIZE = 4096


class SimulatedBus:
    """One RS-485 bus behind a pty at ``path``, ``baud`` with 10 bits per byte."""

    kind = "bus"
    model = "rs485-pty"

    def __init__(self, name: str, path: Path | str, baud: int = 9600) -> None:
        if not name:
            raise ValueError("a bus needs a name")
        self.name = name
        self.path = Path(path)
        self.baud = baud
        self._wire = Wire(baud, LISTEN_BYTES, ANSWER_BYTES)
        #: The adapter hands the host back what the host sends, as it is on the
        #: wire (local echo: some adapters keep their receiver on while they send).
        self.local_echo = False
        self.byte_time = self._wire.byte_time
        self._devices: tuple[BusDevice, ...] = ()
        self._lock = threading.Lock()
        self._outbox: deque[Outgoing] = deque()
        self._timers: list[tuple[float, int, Callable[[float], None]]] = []
        self._sequence = itertools.count()
        self._commands: list[tuple[Callable[[], Any], threading.Event, dict[str, Any]]] = []
        self._thread: threading.Thread | None = None
        self._running = False
        self._stopped = False
        self._master: int | None = None
        self._slave: int | None = None
        self._tty: str | None = None
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        self._counts = dict.fromkeys(
            (
                "host_bytes",
                "device_frames",
                "device_bytes_lost",
                "unplugs",
                "replugs",
            ),
            0,
        )

    def __repr__(self) -> str:
        return f"SimulatedBus({self.name!r}, {str(self.path)!r})"

    def __enter__(self) -> SimulatedBus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- devices -----------------------------------------------------------------

    @property
    def devices(self) -> tuple[BusDevice, ...]:
        return self._devices

    def get(self, device_id: str) -> BusDevice:
        """The device with id ``device_id``; KeyError if it is not on this bus."""
        for device in self._devices:
            if device.id == device_id:
                return device
        raise KeyError(device_id)

    def add(self, device: D) -> D:
        """Put ``device`` on the bus (before or after `start`) and return it.

        ValueError if its id is taken, or another device would act on the same
        frames (same protocol and address, and for screens, selector).
        """
        with self._lock:
            for other in self._devices:
                if other.id == device.id:
                    raise ValueError(f"bus {self.name!r} already has a device {device.id!r}")
                if other.bus_slot == device.bus_slot:
                    raise ValueError(
                        f"{device.id!r} and {other.id!r} would both take the frames for "
                        f"{device.protocol} address {device.address} on bus {self.name!r}"
                    )
            device.attach(self, self.name)
            self._devices = (*self._devices, device)
        return device

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Create the pty, point ``path`` at it and start the bus thread."""
        with self._lock:
            if self._running or self._stopped:
                raise RuntimeError(f"bus {self.name!r} was already started")
            self._running = True
        try:
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)
            self._open_pty()
        except BaseException:
            self._close_all()
            with self._lock:
                self._running = False
                self._stopped = True
            raise
        self._thread = threading.Thread(target=self._run, name=f"sim-bus-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, close the pty and remove the symlink. Safe to repeat."""
        thread = self._thread
        with self._lock:
            was_running = self._running
            self._stopped = True
        if was_running and thread is not None and thread.is_alive():
            self._in_thread(self._halt)
            thread.join(COMMAND_TIMEOUT)
        self._close_all()

    def unplug(self) -> None:
        """The adapter is pulled out: the pty closes and ``path`` disappears."""
        self._in_thread(self._unplug)

    def replug(self) -> None:
        """The adapter is plugged back in: a new pty at ``path``; devices keep their state."""
        self._in_thread(self._replug)

    def use_adapter(self, echoes: bool) -> None:
        """Plug in an adapter that hands the host back what it sends, or one that
        does not: a swap (unplugged, then plugged in again) when that changes.
        A real adapter does one or the other for as long as it is plugged in,
        and the host learns which each time it opens the port."""
        if echoes != self.local_echo:
            self.unplug()
            self.local_echo = echoes
        self.replug()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def faults(self) -> list[str]:
        """``unplug`` while the adapter is out, ``echo`` while it hands back what
        the host sends."""
        faults = [] if self.plugged or not self._running else ["unplug"]
        return faults + (["echo"] if self.local_echo else [])

    @property
    def tty(self) -> str | None:
        """The pty slave's device name while plugged in."""
        return self._tty

    @property
    def transmitting(self) -> bool:
        """Whether a device frame is on the wire."""
        return self._wire.tx is not None

    @property
    def counters(self) -> dict[str, int]:
        return {**self._counts, "collisions": self._wire.collisions}

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.name,
            "kind": self.kind,
            "model": self.model,
            "path": str(self.path),
            "baud": self.baud,
            "plugged": self.plugged,
            "faults": self.faults,
            "devices": [device.id for device in self._devices],
        }

    def snapshot(self) -> dict[str, Any]:
        return {**self.describe(), "tty": self._tty, "counters": self.counters}

    # --- the port devices see -----------------------------------------------------------

    def send(self, outgoing: Outgoing) -> None:
        with self._lock:
            self._outbox.append(outgoing)
            self._wake()

    def call_at(self, when: float, callback: Callable[[float], None]) -> None:
        with self._lock:
            heapq.heappush(self._timers, (when, next(self._sequence), callback))
            self._wake()

    # --- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._step():
                pass
        except Exception:
            log.exception("bus %s: the bus thread failed", self.name)
        finally:
            with self._lock:
                self._running = False
                commands, self._commands = self._commands, []
            for command in commands:
                self._carry_out(command)

    def _step(self) -> bool:
        """One turn of the bus thread; False once it is told to stop."""
        with self._lock:
            commands, self._commands = self._commands, []
        for command in commands:
            self._carry_out(command)
        if not self._running:
            return False
        devices = self._devices
        for data, at in self._wire.due_host(time.monotonic()):
            for device in devices:
                self._call_device(device.hear, data, at)
            if self.local_echo:
                self._write(data)
        self._write_due(time.monotonic())
        self._run_timers(time.monotonic())
        self._start_next(time.monotonic())
        self._wait()
        return True

    def _write_due(self, now: float) -> None:
        data, finished = self._wire.due_tx(now)
        if data:
            self._write(data)
        if finished is not None:
            outgoing = finished.tag
            assert isinstance(outgoing, Outgoing)
            self._counts["device_frames"] += 1
            self._call_device(outgoing.device.end_transmit, outgoing, finished.finished)

    def _run_timers(self, now: float) -> None:
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > now:
                    return
                _, _, callback = heapq.heappop(self._timers)
            self._call_device(callback, now)

    def _start_next(self, now: float) -> None:
        """Carrier sense: once the wire is quiet the oldest answer goes out, or,
        after a longer silence, the oldest frame of any kind.

        What the host wrote before this moment is on the wire first: a device
        hears a byte as it starts, and this thread may have woken late (the
        machine is busy), so bytes waiting in the pty are read before a device
        decides the wire is quiet. Otherwise the thread's own lateness would
        show up as collisions that a real device, talking on time, never has."""
        if self._outbox and self._master is not None:
            self._read_host()
        while True:
            with self._lock:
                outgoing = self._next_outgoing(now)
                if outgoing is None:
                    return
                self._outbox.remove(outgoing)
            if outgoing.cancelled:
                continue
            burst = self._call_device(outgoing.device.begin_transmit, outgoing, now)
            if burst is None or not burst.data:
                continue
            self._wire.start(outgoing, burst.data, now, burst.split_at, SPLIT_PAUSE)

    def _next_outgoing(self, now: float) -> Outgoing | None:
        answers = [o for o in self._outbox if o.kind == ECHO]
        if answers and self._wire.idle(now, answering=True):
            return answers[0]
        if self._outbox and self._wire.idle(now):
            return self._outbox[0]
        return None

    def _wait(self) -> None:
        """Sleep until something is due, the host writes, or someone wakes the thread."""
        with self._lock:
            waiting = bool(self._outbox)
            answering = any(o.kind == ECHO for o in self._outbox)
            timer = self._timers[0][0] if self._timers else None
        deadline = self._wire.next_deadline(waiting, answering)
        deadlines = [t for t in (deadline, timer) if t is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        assert self._wake_r is not None
        readers = [self._wake_r] if self._master is None else [self._wake_r, self._master]
        ready, _, _ = select.select(readers, [], [], timeout)
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, READ_SIZE)
        if self._master is not None and self._master in ready:
            self._read_host()

    def _read_host(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as error:
            # Not expected while the bus holds the slave open; do not spin on it.
            log.warning("bus %s: reading the pty failed: %s", self.name, error)
            time.sleep(0.01)
            return
        if data:
            self._counts["host_bytes"] += len(data)
            self._wire.host_write(data, time.monotonic())

    def _write(self, data: bytes) -> None:
        """Hand device bytes to the host; lost if the adapter is gone or its buffer is full."""
        if self._master is None:
            self._counts["device_bytes_lost"] += len(data)
            return
        try:
            written = os.write(self._master, data)
        except BlockingIOError:
            written = 0
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            written = 0
        self._counts["device_bytes_lost"] += len(data) - written

    def _call_device(self, function: Callable[..., T], *args: Any) -> T | None:
        """Call into a device; a device's bug must not stop the bus."""
        try:
            return function(*args)
        except Exception:
            log.exception("bus %s: device call %r failed", self.name, function)
            return None

    # --- commands run in the thread ---------------------------------------------------

    def _in_thread(self, function: Callable[[], T]) -> T:
        """Run ``function`` in the bus thread and wait for it (directly if there is none)."""
        done = threading.Event()
        box: dict[str, Any] = {}
        with self._lock:
            queued = self._running and threading.current_thread() is not self._thread
            if queued:
                self._commands.append((function, done, box))
                self._wake()
        if not queued:
            return function()
        if not done.wait(COMMAND_TIMEOUT):
            raise TimeoutError(f"bus {self.name!r}: the bus thread did not answer")
        if "error" in box:
            raise box["error"]
        return box["result"]

    @staticmethod
    def _carry_out(command: tuple[Callable[[], Any], threading.Event, dict[str, Any]]) -> None:
        function, done, box = command
        try:
            box["result"] = function()
        except BaseException as error:
            box["error"] = error
        finally:
            done.set()

    def _halt(self) -> None:
        with self._lock:
            self._running = False

    def _unplug(self) -> None:
        if self._master is None:
            return
        self._close_pty()
        self._wire.drop_host(time.monotonic())
        self._counts["unplugs"] += 1

    def _replug(self) -> None:
        if self._master is not None or self._stopped:
            return
        self._open_pty()
        self._counts["replugs"] += 1

    # --- the pty and the path ---------------------------------------------------------

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            os.set_blocking(master, False)
            name = os.ttyname(slave)
            point_path_at(self.path, name)
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        # The bus keeps the slave open too: with no slave open, reading the master
        # fails with EIO, and the host closing its port is not an unplug.
        self._master, self._slave, self._tty = master, slave, name

    def _close_pty(self) -> None:
        remove_path(self.path, self._tty)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = self._tty = None

    def _close_all(self) -> None:
        self._close_pty()
        with self._lock:
            for fd in (self._wake_r, self._wake_w):
                if fd is not None:
                    os.close(fd)
            self._wake_r = self._wake_w = None

    def _wake(self) -> None:
        """Wake the bus thread; the caller holds the lock, so the pipe stays open."""
        if self._wake_w is None:
            return
        # A full pipe means the thread is woken already.
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"\0")
