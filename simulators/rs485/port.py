"""What a simulated bus device and its bus know of each other, and what every device shares.

The bus hands every device every byte the host puts on the wire (`BusDevice.hear`)
and runs the device's timers (`BusPort.call_at`). A device that wants to talk
queues an `Outgoing` (`BusPort.send`); when the wire is quiet the bus asks the
device for the bytes (`BusDevice.begin_transmit`), so faults set in the
meantime still apply, and tells it when the last byte has gone
(`BusDevice.end_transmit`).

Locking: each device has its own lock, taken by its public methods and by the
bus thread's calls into it. A device may call its port while holding its
lock; the bus never calls a device while holding the bus's lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

__all__ = [
    "FAULT_GARBLE",
    "FAULT_OK",
    "FAULT_SILENT",
    "FAULT_SPLIT",
    "GARBLE_XOR",
    "LOG_SIZE",
    "SPLIT_PAUSE",
    "Burst",
    "BusDevice",
    "BusPort",
    "FrameRecord",
    "Outgoing",
]

FAULT_SILENT = "silent"
FAULT_GARBLE = "garble"
FAULT_SPLIT = "split"
FAULT_OK = "ok"

#: Pause between the two parts of a frame under the ``split`` fault, in seconds.
SPLIT_PAUSE = 0.03
#: What the ``garble`` fault does to the byte it damages.
GARBLE_XOR = 0x55
#: Frames kept in each device's sent and received logs.
LOG_SIZE = 256


@dataclass(frozen=True)
class FrameRecord:
    """A frame and the monotonic time it was on the wire.

    For a frame received, ``at`` is when its last byte was delivered; for a
    frame sent, when its first byte went on the wire. ``frame`` is the decoded
    message for frames received and the wire bytes for frames sent.
    """

    at: float
    frame: Any


KEY = "key"  # a frame of the device's own: a key press
ECHO = "echo"  # an answer to the host


@dataclass(eq=False)
class Outgoing:
    """A frame a device asked to send, waiting for a quiet wire."""

    device: BusDevice
    frame: bytes
    #: What it is to the device: "key" (a key frame) or "echo" (an answer).
    kind: str
    #: The device's own bookkeeping for it (the key press it carries).
    ref: object = None
    cancelled: bool = False


@dataclass(frozen=True)
class Burst:
    """The bytes a device puts on the wire for one `Outgoing`; with ``split_at``,
    it pauses `SPLIT_PAUSE` seconds before that byte."""

    data: bytes
    split_at: int | None = None


class BusPort(Protocol):
    """The bus as a device sees it."""

    def send(self, outgoing: Outgoing) -> None:
        """Queue a frame; it goes on the wire when the wire is quiet."""

    def call_at(self, when: float, callback: Callable[[float], None]) -> None:
        """Call ``callback(now)`` in the bus thread at monotonic time ``when``."""


class BusDevice:
    """What every simulated RS-485 device has: id, address, faults, logs, a lock.

    Subclasses set the class attributes and implement `hear` and `snapshot`;
    devices that talk implement `begin_transmit` and `end_transmit`.
    """

    kind: ClassVar[str] = "device"
    model: str = "device"
    #: Which codec's frames the device speaks: "ff68" or "imm".
    protocol: ClassVar[str] = ""
    supported_faults: ClassVar[frozenset[str]] = frozenset({FAULT_SILENT, FAULT_OK})

    def __init__(self, id: str, address: int) -> None:
        if not id:
            raise ValueError("a device needs an id")
        if not 0 <= address <= 0xFF:
            raise ValueError(f"bus address {address} is outside 0..255")
        self.id = id
        self.address = address
        self._received: deque[FrameRecord] = deque(maxlen=LOG_SIZE)
        self._sent: deque[FrameRecord] = deque(maxlen=LOG_SIZE)
        self._lock = threading.RLock()
        self._faults: set[str] = set()
        self._port: BusPort | None = None
        self._bus_name: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, address={self.address})"

    # --- faults --------------------------------------------------------------

    @property
    def faults(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._faults)

    def set_fault(self, kind: str) -> None:
        """Add fault ``kind``; ``ok`` clears them all. ValueError for a kind this
        device does not have."""
        if kind not in self.supported_faults:
            supported = ", ".join(sorted(self.supported_faults))
            raise ValueError(
                f"{self.kind} {self.id!r} does not support fault {kind!r} (supported: {supported})"
            )
        with self._lock:
            if kind == FAULT_OK:
                self._faults.clear()
            else:
                self._faults.add(kind)
            self._fault_changed(kind)

    def _fault_changed(self, kind: str) -> None:
        """Hook for a device that must act when a fault is set (under the lock)."""

    @property
    def silent(self) -> bool:
        return FAULT_SILENT in self._faults

    # --- the bus -------------------------------------------------------------

    @property
    def bus_slot(self) -> tuple[object, ...]:
        """What frames for this device carry to pick it out; two devices on one bus
        must differ in it, or both would act on the same frames."""
        return (self.protocol, self.address)

    @property
    def bus_name(self) -> str | None:
        """The name of the bus the device is on, if any."""
        return self._bus_name

    def attach(self, port: BusPort, bus_name: str) -> None:
        """Called by the bus when the device is added to it."""
        with self._lock:
            if self._port is not None:
                raise ValueError(f"{self.id!r} is already on bus {self._bus_name!r}")
            self._port = port
            self._bus_name = bus_name

    def hear(self, data: bytes, at: float) -> None:
        """Bytes the host put on the wire; ``at`` is when the last of them was delivered."""
        raise NotImplementedError

    def begin_transmit(self, outgoing: Outgoing, now: float) -> Burst | None:
        """The bytes to send for ``outgoing`` now, or None to send nothing."""
        return None

    def end_transmit(self, outgoing: Outgoing, at: float) -> None:
        """The last byte of ``outgoing`` left the wire at ``at``."""

    # --- state ---------------------------------------------------------------

    @property
    def received(self) -> list[FrameRecord]:
        """The last `LOG_SIZE` frames addressed to the device, oldest first."""
        with self._lock:
            return list(self._received)

    @property
    def sent(self) -> list[FrameRecord]:
        """The last `LOG_SIZE` frames the device put on the wire, oldest first."""
        with self._lock:
            return list(self._sent)

    def describe(self) -> dict[str, Any]:
        """Who the device is: what `list` shows of it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "model": self.model,
            "bus": self._bus_name,
            "address": self.address,
            "faults": sorted(self.faults),
        }

    def snapshot(self) -> dict[str, Any]:
        """What the device shows now, its counters and faults (JSON-safe)."""
        raise NotImplementedError
