"""What FF68 keypads and evaluation pads share: decoding, echoing, and key presses that
are resent until the host acknowledges them (PROTOCOLS.md §1).

Echo rule (this project's choice where PROTOCOLS.md is silent): an FF68 device
answers every well-formed host command addressed to it by sending the
identical frame back, so the host can tell a silent device; it never answers
an acknowledgement (the host's echo of a key frame, or a pad ack), and it
does not answer a command it cannot carry out (wrong data length, a digit
or level out of range), which it counts as a bad command.

Key presses: one press is in flight at a time; later presses wait their
turn. A press is sent, and if no acknowledgement has arrived ``resend_after``
seconds after its last byte left the wire, sent again, up to ``max_sends``
sends in all; after the last send goes unacknowledged for ``resend_after``,
the press is recorded as failed and the next one starts.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from drivers.codec import FrameError
from drivers.ff68 import codec as ff68
from simulators.rs485.port import (
    ECHO,
    FAULT_GARBLE,
    FAULT_OK,
    FAULT_SILENT,
    FAULT_SPLIT,
    GARBLE_XOR,
    KEY,
    Burst,
    BusDevice,
    FrameRecord,
    Outgoing,
)

__all__ = ["Ff68Device", "PendingPress", "garble"]


def garble(frame: bytes) -> bytes:
    """``frame`` with its middle byte damaged.

    In an FF68 device frame (at least 10 bytes) the middle byte is the address,
    func or a data byte, all covered by the checksum, so the host's decoder
    always refuses the result.
    """
    damaged = bytearray(frame)
    damaged[len(damaged) // 2] ^= GARBLE_XOR
    return bytes(damaged)


@dataclass(eq=False)
class PendingPress:
    """A key press waiting to be sent, or sent and waiting for its acknowledgement."""

    frame: ff68.Frame
    #: What the press was, for the snapshot: a key name or a rating level.
    label: object
    outgoing: Outgoing | None = None
    #: When each send of the frame started on the wire.
    sent_at: list[float] = field(default_factory=list)
    acknowledged_at: float | None = None

    @property
    def sends(self) -> int:
        return len(self.sent_at)


class Ff68Device(BusDevice):
    """An FF68 device: hears host frames for its address, echoes commands, sends keys."""

    protocol: ClassVar[str] = "ff68"
    supported_faults: ClassVar[frozenset[str]] = frozenset(
        {FAULT_SILENT, FAULT_GARBLE, FAULT_SPLIT, FAULT_OK}
    )

    def __init__(
        self, id: str, address: int, resend_after: float = 0.25, max_sends: int = 5
    ) -> None:
        super().__init__(id, address)
        if resend_after <= 0:
            raise ValueError(f"resend_after must be positive, got {resend_after}")
        if max_sends < 1:
            raise ValueError(f"max_sends must be at least 1, got {max_sends}")
        self.resend_after = resend_after
        self.max_sends = max_sends
        self._decoder = ff68.Decoder(from_device=False)
        self._waiting: deque[PendingPress] = deque()
        self._current: PendingPress | None = None
        self._echoes: list[Outgoing] = []
        self._last_press: PendingPress | None = None
        self._presses = dict.fromkeys(("pressed", "sent", "acknowledged", "failed", "dropped"), 0)
        self._frames = dict.fromkeys(
            (
                "received",
                "sent",
                "key_frames_sent",
                "resends",
                "echoed",
                "stray_acks",
                "bad_commands",
                "unknown_commands",
                "decode_errors",
            ),
            0,
        )

    # --- what subclasses provide -----------------------------------------------

    def _command(self, frame: ff68.Frame, at: float) -> None:
        """Act on a well-formed frame addressed to this device (under the lock)."""
        raise NotImplementedError

    def _acknowledges(self, frame: ff68.Frame, press: PendingPress) -> bool:
        """Whether ``frame`` is the host's acknowledgement of ``press``."""
        raise NotImplementedError

    # --- hearing -------------------------------------------------------------

    def hear(self, data: bytes, at: float) -> None:
        with self._lock:
            if self.silent:
                return
            for item in self._decoder.feed(data):
                if isinstance(item, FrameError):
                    # Garbage is mostly the screens' traffic on the same pair.
                    if item.reason != "garbage":
                        self._frames["decode_errors"] += 1
                    continue
                if item.addr != self.address:
                    continue
                self._frames["received"] += 1
                self._received.append(FrameRecord(at, item))
                self._command(item, at)

    def _echo(self, frame: ff68.Frame) -> None:
        """Answer a host command by sending it back."""
        self._frames["echoed"] += 1
        self._queue(Outgoing(self, ff68.encode(frame), ECHO))

    def _bad_command(self) -> None:
        self._frames["bad_commands"] += 1

    def _unknown_command(self) -> None:
        self._frames["unknown_commands"] += 1

    def _acknowledged(self, frame: ff68.Frame, at: float) -> None:
        """An acknowledgement arrived: settle the press in flight, or count a stray."""
        press = self._current
        if press is None or press.sends == 0 or not self._acknowledges(frame, press):
            self._frames["stray_acks"] += 1
            return
        self._presses["acknowledged"] += 1
        press.acknowledged_at = at
        if press.outgoing is not None:
            press.outgoing.cancelled = True  # a resend still waiting for the wire
        self._current = None
        self._next_press()

    # --- key presses -----------------------------------------------------------

    def _press(self, frame: ff68.Frame, label: object) -> bool:
        """Queue a key press (under the lock); False if the device is silent."""
        if self.silent:
            self._presses["dropped"] += 1
            return False
        self._last_press = PendingPress(frame, label)
        self._presses["pressed"] += 1
        self._waiting.append(self._last_press)
        if self._current is None:
            self._next_press()
        return True

    def _next_press(self) -> None:
        self._current = self._waiting.popleft() if self._waiting else None
        if self._current is not None:
            self._send_press(self._current)

    def _send_press(self, press: PendingPress) -> None:
        press.outgoing = Outgoing(self, ff68.encode(press.frame), KEY, press)
        self._queue(press.outgoing)

    def _queue(self, outgoing: Outgoing) -> None:
        if self._port is None:
            raise RuntimeError(f"{self.id!r} is not on a bus")
        if outgoing.kind == ECHO:
            self._echoes.append(outgoing)
        self._port.send(outgoing)

    def _resend_due(self, press: PendingPress, sends: int, now: float) -> None:
        with self._lock:
            if self._current is not press or press.sends != sends:
                return  # acknowledged, dropped, or already sent again
            if press.sends >= self.max_sends:
                self._presses["failed"] += 1
                self._current = None
                self._next_press()
            else:
                self._frames["resends"] += 1
                self._send_press(press)

    # --- transmitting ----------------------------------------------------------

    def begin_transmit(self, outgoing: Outgoing, now: float) -> Burst | None:
        with self._lock:
            if outgoing.kind == ECHO and outgoing in self._echoes:
                self._echoes.remove(outgoing)
            if outgoing.cancelled or self.silent:
                return None
            if outgoing.kind == KEY:
                press = outgoing.ref
                assert isinstance(press, PendingPress)
                press.sent_at.append(now)
                press.outgoing = None
                self._frames["key_frames_sent"] += 1
                if press.sends == 1:
                    self._presses["sent"] += 1
            data = outgoing.frame
            if FAULT_GARBLE in self._faults:
                data = garble(data)
            split_at = len(data) // 2 if FAULT_SPLIT in self._faults else None
            self._frames["sent"] += 1
            self._sent.append(FrameRecord(now, data))
            return Burst(data, split_at)

    def end_transmit(self, outgoing: Outgoing, at: float) -> None:
        with self._lock:
            press = outgoing.ref
            if outgoing.kind != KEY or press is not self._current or self._port is None:
                return
            assert isinstance(press, PendingPress)
            callback = functools.partial(self._resend_due, press, press.sends)
            self._port.call_at(at + self.resend_after, callback)

    # --- faults and state --------------------------------------------------------

    def _fault_changed(self, kind: str) -> None:
        if kind != FAULT_SILENT:
            return
        # A silent device is dead to the bus: what it was about to send is lost.
        for outgoing in self._echoes:
            outgoing.cancelled = True
        self._echoes.clear()
        lost = len(self._waiting) + (self._current is not None)
        if self._current is not None and self._current.outgoing is not None:
            self._current.outgoing.cancelled = True
        self._presses["dropped"] += lost
        self._waiting.clear()
        self._current = None
        self._decoder.reset()

    def _counters(self) -> dict[str, Any]:
        presses = dict(self._presses)
        presses["pending"] = len(self._waiting) + (self._current is not None)
        return {"presses": presses, "frames": dict(self._frames)}

    @property
    def _last_label(self) -> object:
        return self._last_press.label if self._last_press else None

    def _times(self) -> dict[str, Any]:
        """When the device last heard and sent a frame, and when each send of its
        last key press started on the wire and the press was acknowledged (more
        than one send: the host did not acknowledge the first in time, or never
        heard it)."""
        press = self._last_press
        return {
            "last_received_at": self._received[-1].at if self._received else None,
            "last_sent_at": self._sent[-1].at if self._sent else None,
            "last_press": None
            if press is None
            else {"sent_at": list(press.sent_at), "acknowledged_at": press.acknowledged_at},
        }
