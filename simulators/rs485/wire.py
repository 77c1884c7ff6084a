"""The RS-485 pair as a sans-I/O model: when each byte is on the wire, and what collides.

One twisted pair, half duplex, ``baud`` with 10 bits per byte (8N1: start,
eight data bits, stop). Times are plain floats on the caller's clock
(`SimulatedBus` passes ``time.monotonic()``); nothing here sleeps or reads a
clock, so the timing rules are tested without threads.

Host to devices: byte k of what the host writes occupies the wire from
``max(arrival, end of the previous host byte)`` for one byte time, and is
delivered when it ends. Devices to host: a `Transmission` occupies the wire
from its start, byte after byte, with an optional pause (the ``split`` fault).
Where a host byte and a device byte are on the wire at the same moment, both
are damaged: the host byte reaches the devices xor 0x55, and the device frame
is xor 0x55 from that byte to its end (its driver keeps talking over the
noise; the host sees garbage).

Delivery to devices is batched at *frame ends*: devices act on whole frames,
so waking every device for every byte would cost CPU for nothing. Frame ends
are found by running both codecs' decoders over the host stream; the last
byte of every write from the host also ends a batch, so bytes no decoder
recognises are still delivered, just in one piece.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field

from drivers.codec import FrameError
from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm

__all__ = ["BITS_PER_BYTE", "COLLISION_XOR", "Transmission", "Wire"]

#: Start bit, eight data bits, stop bit.
BITS_PER_BYTE = 10
#: What a collision does to a byte on both sides.
COLLISION_XOR = 0x55
#: Times closer than this are equal (sums of byte times pick up rounding).
EPSILON = 1e-9


@dataclass(eq=False)
class Transmission:
    """One device frame on the wire.

    ``ends[k]`` is when byte k has been fully sent: the moment it may be
    handed to the host. ``tag`` is the caller's (the bus keeps the device's
    request there).
    """

    tag: object
    data: bytes
    started: float
    ends: list[float]
    written: int = 0
    #: Index of the first byte damaged by a collision, if any.
    collided_at: int | None = None

    @property
    def done(self) -> bool:
        return self.written >= len(self.data)

    @property
    def finished(self) -> float:
        """When the last byte has been sent."""
        return self.ends[-1] if self.ends else self.started

    def wire_bytes(self, begin: int, end: int) -> bytes:
        """Bytes ``begin:end`` as they reach the host, collision damage included."""
        chunk = bytearray(self.data[begin:end])
        if self.collided_at is not None:
            for index in range(max(begin, self.collided_at), end):
                chunk[index - begin] ^= COLLISION_XOR
        return bytes(chunk)


@dataclass
class _HostBytes:
    """Host bytes up to and including a frame end, delivered together at ``at``."""

    at: float
    data: bytearray = field(default_factory=bytearray)


class _FrameEnds:
    """Says which host bytes end a frame of either protocol (or a broken one)."""

    def __init__(self) -> None:
        self._ff68 = ff68.Decoder(from_device=False)
        self._imm = imm.Decoder()

    def reset(self) -> None:
        self._ff68.reset()
        self._imm.reset()

    def ends_frame(self, value: int) -> bool:
        byte = bytes((value,))
        items = [*self._ff68.feed(byte), *self._imm.feed(byte)]
        # Garbage is the other protocol's bytes as often as noise: not a frame end.
        return any(not (isinstance(i, FrameError) and i.reason == "garbage") for i in items)


class Wire:
    """The timing and collision state of one bus. Not thread-safe: one owner."""

    def __init__(self, baud: int, listen_bytes: float = 0.0, answer_bytes: float = 0.0) -> None:
        """``listen_bytes``: the silence, in byte times, a device waits for before
        it starts a frame of its own (listen before talk); ``answer_bytes``: the
        shorter silence before it answers the host, so answers go first."""
        if baud <= 0:
            raise ValueError(f"baud must be positive, got {baud}")
        self.baud = baud
        self.byte_time = BITS_PER_BYTE / baud
        self.listen = listen_bytes * self.byte_time
        self.answer = min(answer_bytes, listen_bytes) * self.byte_time
        #: When the last host byte scheduled so far leaves the wire.
        self.host_end = float("-inf")
        #: When the last device frame left the wire.
        self.tx_end = float("-inf")
        #: The device frame on the wire, if any.
        self.tx: Transmission | None = None
        self.collisions = 0
        self._batches: deque[_HostBytes] = deque()
        self._open: _HostBytes | None = None
        self._frame_ends = _FrameEnds()

    # --- host to devices ---------------------------------------------------

    def host_write(self, data: bytes, now: float) -> None:
        """Schedule bytes the host wrote, read from the adapter at ``now``."""
        last = len(data) - 1
        for index, value in enumerate(data):
            start = max(now, self.host_end)
            end = start + self.byte_time
            self.host_end = end
            if self._collides(start, end):
                value ^= COLLISION_XOR
            if self._open is None:
                self._open = _HostBytes(end)
            self._open.data.append(value)
            self._open.at = end
            if self._frame_ends.ends_frame(value) or index == last:
                self._batches.append(self._open)
                self._open = None

    def due_host(self, now: float) -> list[tuple[bytes, float]]:
        """Batches of host bytes whose last byte has left the wire by ``now``,
        each with that byte's end time, oldest first."""
        out: list[tuple[bytes, float]] = []
        while self._batches and self._batches[0].at <= now + EPSILON:
            batch = self._batches.popleft()
            out.append((bytes(batch.data), batch.at))
        return out

    def drop_host(self, now: float) -> None:
        """Forget host bytes not yet delivered: the adapter is gone."""
        self._batches.clear()
        self._open = None
        self._frame_ends.reset()
        self.host_end = min(self.host_end, now)

    @property
    def host_pending(self) -> bool:
        return bool(self._batches)

    # --- devices to host ---------------------------------------------------

    def idle(self, now: float, answering: bool = False) -> bool:
        """Carrier sense: no device frame on the wire, no host byte still on it,
        and quiet since the last of them for the listening (or answering) time."""
        return self.tx is None and now + EPSILON >= self._quiet_from(answering)

    def _quiet_from(self, answering: bool) -> float:
        return max(self.host_end, self.tx_end) + (self.answer if answering else self.listen)

    def start(
        self,
        tag: object,
        data: bytes,
        now: float,
        split_at: int | None = None,
        pause: float = 0.0,
    ) -> Transmission:
        """Put a device frame on the wire at ``now``; ``split_at`` inserts ``pause``
        seconds before that byte. The caller checks `idle` first."""
        if self.tx is not None:
            raise RuntimeError("a device frame is already on the wire")
        ends: list[float] = []
        at = now
        for index in range(len(data)):
            if split_at is not None and index == split_at:
                at += pause
            at += self.byte_time
            ends.append(at)
        self.tx = Transmission(tag, bytes(data), now, ends)
        return self.tx

    def due_tx(self, now: float) -> tuple[bytes, Transmission | None]:
        """The device bytes sent completely by ``now`` and not yet handed over,
        and the transmission if this finished it."""
        tx = self.tx
        if tx is None:
            return b"", None
        upto = bisect_right(tx.ends, now + EPSILON, lo=tx.written)
        chunk = tx.wire_bytes(tx.written, upto)
        tx.written = upto
        if tx.done:
            self.tx = None
            self.tx_end = tx.ends[-1]
            return chunk, tx
        return chunk, None

    # --- both --------------------------------------------------------------

    def next_deadline(self, want_to_send: bool, answering: bool = False) -> float | None:
        """The next moment something is due: a host batch, a device byte, or, when
        a device waits to send (an answer, with ``answering``), the end of the
        silence it waits for."""
        times: list[float] = []
        if self._batches:
            times.append(self._batches[0].at)
        if self.tx is not None:
            times.append(self.tx.ends[self.tx.written])
        elif want_to_send:
            times.append(self._quiet_from(answering))
        return min(times) if times else None

    def _collides(self, start: float, end: float) -> bool:
        """Whether a host byte on the wire over [start, end) meets the device frame;
        if so, the device frame is damaged from the byte it meets."""
        tx = self.tx
        if tx is None or tx.done:
            return False
        # The first device byte not finished when the host byte starts.
        index = bisect_right(tx.ends, start + EPSILON, lo=tx.written)
        if index >= len(tx.ends) or tx.ends[index] - self.byte_time >= end - EPSILON:
            return False
        if tx.collided_at is None:
            self.collisions += 1
            tx.collided_at = index
        else:
            tx.collided_at = min(tx.collided_at, index)
        return True
