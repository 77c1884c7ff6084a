"""A simulated ESC/POS ticket printer: its state, faults and tickets, without I/O.

A link (USB, TCP, serial) hands every byte the host sends to `SimulatedPrinter.receive`
and sends back what it returns: the answers to ``DLE EOT n`` status requests
(PROTOCOLS.md section 5). The printer is thread-safe; links call it from their
own threads, the simulator control from another.

While the paper is out, the cover is open or the cutter has failed, the
printer is offline: it still answers status requests (real-time commands are
answered even then), but prints nothing; everything else it receives is
dropped, and the bytes received in that state are counted as
``bytes_dropped``. A printer that is ``off`` (powered, but its firmware
does nothing: the state PROTOCOLS.md warns about) swallows every byte and
answers nothing. An ``unplug``ged printer is gone from its link; the link
decides what the host sees (see each link).

A ticket is everything printed up to and including a cut. A cut with nothing
printed since the last one is counted as a cut but is no ticket.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from simulators.escpos.parser import (
    Cut,
    Image,
    Item,
    Parser,
    Qr,
    StatusRequest,
    Text,
    Unknown,
)

__all__ = [
    "FAULTS",
    "PAPER_NEAR_END",
    "PAPER_OK",
    "PAPER_OUT",
    "SimulatedPrinter",
    "Ticket",
    "status_byte",
]

PAPER_OK, PAPER_NEAR_END, PAPER_OUT = "ok", "near_end", "out"

FAULT_PAPER_NEAR = "paper-near"
FAULT_PAPER_OUT = "paper-out"
FAULT_COVER_OPEN = "cover-open"
FAULT_CUTTER = "cutter-error"
FAULT_UNPLUG = "unplug"
FAULT_OFF = "off"
FAULT_OK = "ok"
FAULTS = (
    FAULT_PAPER_NEAR,
    FAULT_PAPER_OUT,
    FAULT_COVER_OPEN,
    FAULT_CUTTER,
    FAULT_UNPLUG,
    FAULT_OFF,
    FAULT_OK,
)

#: Finished tickets kept for inspection; older ones are only counted.
KEPT_TICKETS = 64
#: Items kept of a ticket in progress (a printer whose driver never cuts
#: would otherwise grow it without end); older ones are dropped.
KEPT_ITEMS = 2000
#: With ``paper_left``, the near-end sensor trips when this many tickets are left.
NEAR_END_TICKETS = 10

# Status bits (PROTOCOLS.md section 5); every answer has bits 1 and 4 set.
STATUS_FIXED = 0x12
OFFLINE = 0x08  # n=1
COVER_OPEN = 0x04  # n=2
STOPPED_AT_PAPER_END = 0x20  # n=2
ERROR_OCCURRED = 0x40  # n=2
CUTTER_ERROR = 0x08  # n=3
PAPER_NEAR_END_BITS = 0x0C  # n=4
PAPER_END_BITS = 0x60  # n=4


def status_byte(n: int, paper: str, cover_open: bool, cutter_error: bool) -> int:
    """The answer to ``DLE EOT n`` (n 1-4) for a printer in this state.

    With the paper out, the roll sensor reports both near end and end
    (``0x7e``): the near-end sensor sees no paper either.
    """
    status = STATUS_FIXED
    if n == 1 and (paper == PAPER_OUT or cover_open or cutter_error):
        status |= OFFLINE
    elif n == 2:
        status |= COVER_OPEN if cover_open else 0
        status |= STOPPED_AT_PAPER_END if paper == PAPER_OUT else 0
        status |= ERROR_OCCURRED if cutter_error else 0
    elif n == 3 and cutter_error:
        status |= CUTTER_ERROR
    elif n == 4:
        status |= PAPER_NEAR_END_BITS if paper in (PAPER_NEAR_END, PAPER_OUT) else 0
        status |= PAPER_END_BITS if paper == PAPER_OUT else 0
    return status


@dataclass(frozen=True)
class Ticket:
    """What was printed on one piece of paper, in order."""

    items: tuple[Item, ...]
    cut_at: float | None = None  # wall-clock time of its cut, for benchmarks

    @property
    def cut(self) -> bool:
        return any(isinstance(item, Cut) for item in self.items)

    @property
    def lines(self) -> list[str]:
        """The printed text lines."""
        return [item.text for item in self.items if isinstance(item, Text)]

    @property
    def qr(self) -> list[str]:
        """The payloads of the printed QR codes."""
        return [item.payload for item in self.items if isinstance(item, Qr)]

    @property
    def images(self) -> list[tuple[int, int]]:
        """Width and height in dots of each printed image."""
        return [(item.width, item.height) for item in self.items if isinstance(item, Image)]

    @property
    def printed(self) -> bool:
        """Whether anything is on the paper (feeds and cuts alone are not)."""
        return any(isinstance(item, Text | Qr | Image) for item in self.items)

    def render(self) -> list[str]:
        """The ticket as a person reads it: text lines, ``[QR] payload``,
        ``[image WxH]``, and ``[cut]`` or ``[partial cut]``."""
        rendered: list[str] = []
        for item in self.items:
            if isinstance(item, Text):
                rendered.append(item.text)
            elif isinstance(item, Qr):
                rendered.append(f"[QR] {item.payload}")
            elif isinstance(item, Image):
                rendered.append(f"[image {item.width}x{item.height}]")
            elif isinstance(item, Cut):
                rendered.append("[partial cut]" if item.partial else "[cut]")
        return rendered

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "qr": self.qr,
            "images": [{"width": width, "height": height} for width, height in self.images],
            "cut": self.cut,
            "unknown": [item.data.hex(" ") for item in self.items if isinstance(item, Unknown)],
            "printout": self.render(),
            "cut_at": self.cut_at,
        }


class SimulatedPrinter:
    """One ESC/POS ticket printer; ``paper_left`` tickets until its roll runs out
    (None: it never does)."""

    kind: ClassVar[str] = "printer"

    def __init__(
        self,
        id: str = "printer",
        model: str = "escpos",
        *,
        paper_left: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not id:
            raise ValueError("a printer needs an id")
        if paper_left is not None and paper_left < 0:
            raise ValueError(f"paper_left must be None or at least 0, got {paper_left}")
        self.id = id
        self.model = model
        self._roll = paper_left
        self._clock = clock
        self._unplug_in: int | None = None
        self._lock = threading.RLock()
        self._parser = Parser()
        self._paper_left = paper_left
        self._paper = PAPER_OK
        self._cover_open = False
        self._cutter_error = False
        self._powered = True
        self._plugged = True
        self._tickets: deque[Ticket] = deque(maxlen=KEPT_TICKETS)
        self._current: deque[Item] = deque(maxlen=KEPT_ITEMS)
        self._watchers: list[Callable[[], None]] = []
        self._counts = dict.fromkeys(
            ("bytes", "bytes_dropped", "status_requests", "tickets", "cuts", "unknown"), 0
        )
        self._paper_used()

    def __repr__(self) -> str:
        return f"SimulatedPrinter({self.id!r})"

    # --- the wire ----------------------------------------------------------------------

    def receive(self, data: bytes) -> bytes:
        """Bytes from the host; returns the printer's answers (possibly none)."""
        with self._lock:
            unplugging = self._unplug_in is not None and len(data) >= self._unplug_in
            if unplugging:
                assert self._unplug_in is not None
                data, self._unplug_in = data[: self._unplug_in], None
            elif self._unplug_in is not None:
                self._unplug_in -= len(data)
            answers = self._take(data)
            if unplugging:
                self._plugged = False
            watchers = list(self._watchers) if unplugging else []
        for watcher in watchers:
            watcher()
        return answers

    def _take(self, data: bytes) -> bytes:
        self._counts["bytes"] += len(data)
        if not (self._powered and self._plugged):
            self._counts["bytes_dropped"] += len(data)
            return b""
        answers = bytearray()
        printing = self._can_print()
        if not printing:
            self._counts["bytes_dropped"] += len(data)
        for item in self._parser.feed(data):
            if isinstance(item, StatusRequest):
                self._counts["status_requests"] += 1
                answers.append(self._status(item.n))
            elif printing:
                self._print(item)
        return bytes(answers)

    def _can_print(self) -> bool:
        return self._paper != PAPER_OUT and not self._cover_open and not self._cutter_error

    def _status(self, n: int) -> int:
        return status_byte(n, self._paper, self._cover_open, self._cutter_error)

    def _print(self, item: Item) -> None:
        if isinstance(item, Unknown):
            self._counts["unknown"] += 1
        self._current.append(item)
        if not isinstance(item, Cut):
            return
        self._counts["cuts"] += 1
        ticket = Ticket(tuple(self._current), cut_at=self._clock())
        self._current.clear()
        if ticket.printed:
            self._counts["tickets"] += 1
            self._tickets.append(ticket)
            if self._paper_left is not None:
                self._paper_left = max(0, self._paper_left - 1)
                self._paper_used()

    def _paper_used(self) -> None:
        """Trip the roll sensors as ``paper_left`` runs down."""
        if self._paper_left is None:
            return
        if self._paper_left == 0:
            self._paper = PAPER_OUT
        elif self._paper_left <= NEAR_END_TICKETS and self._paper == PAPER_OK:
            self._paper = PAPER_NEAR_END

    # --- state -------------------------------------------------------------------------

    def status(self, n: int) -> int:
        """The byte the printer answers to ``DLE EOT n`` now (n 1-4)."""
        if not 1 <= n <= 4:
            raise ValueError(f"DLE EOT n is 1-4, got {n}")
        with self._lock:
            return self._status(n)

    @property
    def paper(self) -> str:
        """``ok``, ``near_end`` or ``out``."""
        return self._paper

    @property
    def paper_left(self) -> int | None:
        return self._paper_left

    @property
    def cover_open(self) -> bool:
        return self._cover_open

    @property
    def cutter_error(self) -> bool:
        return self._cutter_error

    @property
    def powered(self) -> bool:
        return self._powered

    @property
    def plugged(self) -> bool:
        return self._plugged

    @property
    def online(self) -> bool:
        """Whether it would print what it receives now."""
        with self._lock:
            return self._powered and self._plugged and self._can_print()

    @property
    def faults(self) -> frozenset[str]:
        with self._lock:
            faults = {
                FAULT_PAPER_NEAR: self._paper == PAPER_NEAR_END,
                FAULT_PAPER_OUT: self._paper == PAPER_OUT,
                FAULT_COVER_OPEN: self._cover_open,
                FAULT_CUTTER: self._cutter_error,
                FAULT_UNPLUG: not self._plugged,
                FAULT_OFF: not self._powered,
            }
        return frozenset(name for name, present in faults.items() if present)

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def tickets(self) -> list[Ticket]:
        """The last `KEPT_TICKETS` finished (cut) tickets, oldest first."""
        with self._lock:
            return list(self._tickets)

    @property
    def current(self) -> Ticket:
        """What has been printed since the last cut."""
        with self._lock:
            return Ticket(tuple(self._current))

    def last_ticket(self) -> Ticket | None:
        """The ticket being printed if anything is on it, else the last one cut;
        None if the printer has printed nothing."""
        with self._lock:
            current = Ticket(tuple(self._current))
            if current.printed:
                return current
            return self._tickets[-1] if self._tickets else None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "model": self.model,
            "paper": self._paper,
            "faults": sorted(self.faults),
        }

    def snapshot(self) -> dict[str, Any]:
        """State, counters and the last ticket, JSON-safe."""
        with self._lock:
            ticket = self.last_ticket()
            return {
                **self.describe(),
                "paper_left": self._paper_left,
                "cover": "open" if self._cover_open else "closed",
                "cutter": "error" if self._cutter_error else "ok",
                "powered": self._powered,
                "plugged": self._plugged,
                "online": self.online,
                "counters": dict(self._counts),
                "ticket": ticket.to_json() if ticket is not None else None,
            }

    # --- faults ------------------------------------------------------------------------

    def set_fault(self, kind: str) -> None:
        """Inject fault ``kind`` (one of `FAULTS`); ``ok`` clears them all, refills the
        paper, plugs the printer back in and powers it on. ValueError for another kind."""
        if kind not in FAULTS:
            raise ValueError(
                f"printer {self.id!r} does not support fault {kind!r} "
                f"(supported: {', '.join(FAULTS)})"
            )
        with self._lock:
            if kind == FAULT_PAPER_NEAR and self._paper == PAPER_OK:
                self._paper = PAPER_NEAR_END
            elif kind == FAULT_PAPER_OUT:
                self._paper = PAPER_OUT
            elif kind == FAULT_COVER_OPEN:
                self._cover_open = True
            elif kind == FAULT_CUTTER:
                self._cutter_error = True
            elif kind == FAULT_UNPLUG:
                self._plugged = False
            elif kind == FAULT_OFF:
                self._powered = False
            elif kind == FAULT_OK:
                self._clear()
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher()

    def _clear(self) -> None:
        if not self._powered:
            # Powering on loses whatever half-received command the printer held.
            self._parser = Parser()
        self._paper, self._paper_left = PAPER_OK, self._roll
        self._cover_open = self._cutter_error = False
        self._powered = self._plugged = True
        self._paper_used()

    def unplug_after(self, count: int) -> None:
        """Pull the cable once `count` more bytes have arrived: mid-ticket, for
        a ticket longer than that. The rest of that write is lost."""
        with self._lock:
            self._unplug_in = count

    def load_paper(self, tickets: int | None) -> None:
        """A fresh roll that lasts `tickets` more tickets (None: for ever)."""
        with self._lock:
            self._paper, self._paper_left = PAPER_OK, tickets
            self._paper_used()

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every fault change (not under the printer's lock);
        links use it to follow unplugging."""
        with self._lock:
            self._watchers.append(callback)

    def unwatch(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._watchers:
                self._watchers.remove(callback)
