"""What every sans-I/O codec shares: the error item a decoder yields, and a hex dump.

A decoder never raises on what comes off the wire: line noise, a device
with other firmware and a half-received frame are normal on an RS-485 bus.
It returns a `FrameError` as an item among the decoded messages instead, so
the caller sees errors in stream order, can count them towards the device's
health and log them, and keeps decoding the frames that follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

__all__ = ["FrameError", "StreamDecoder", "hexdump"]

M = TypeVar("M")

#: How many bytes `FrameError.__str__` shows before abbreviating; a garbage
#: error can hold a whole read's worth of noise.
STR_LIMIT = 48


def hexdump(data: bytes, limit: int | None = None) -> str:
    """Bytes as lower-case hex pairs separated by spaces: ``ff 68 03``.

    With ``limit``, at most that many bytes are shown, followed by a note of
    how many were left out.
    """
    if limit is None or len(data) <= limit:
        return data.hex(" ")
    shown = data[: max(limit, 0)].hex(" ")
    rest = f"... (+{len(data) - max(limit, 0)} bytes)"
    return f"{shown} {rest}" if shown else rest


@dataclass(frozen=True)
class FrameError:
    """Bytes a decoder could not turn into a message, and why.

    ``data`` holds the offending bytes exactly as received, so a log line
    shows what was on the wire.
    """

    reason: str
    data: bytes

    def __str__(self) -> str:
        if not self.data:
            return f"{self.reason} (no bytes)"
        return f"{self.reason}: {hexdump(self.data, STR_LIMIT)}"


class StreamDecoder(Generic[M]):
    """The resync loop of a decoder for frames that begin with a fixed start
    sequence; a protocol's decoder says what a frame at a start is (`_frame_at`).

    Error handling, chosen so that a broken frame never costs a good one:

    * Bytes before a start are garbage, reported as one ``FrameError("garbage",
      ...)`` per run per `feed` call.
    * A frame the protocol refuses is reported as the `FrameError` `_frame_at`
      returns, and decoding resumes at the byte after its first byte, so a real
      frame starting inside it is still found. Bytes already carried by an error
      are not reported again as garbage.

    `feed` never raises, and keeps between calls only an incomplete frame or a
    trailing part of a start sequence.
    """

    start: ClassVar[bytes]

    def __init__(self) -> None:
        self._buffer = bytearray()
        # Bytes of the buffer, from its start, already carried by a reported error.
        self._reported = 0

    @property
    def buffered(self) -> bytes:
        """Bytes held back waiting for the rest of a frame."""
        return bytes(self._buffer)

    def reset(self) -> None:
        """Drop any partial frame (after a deadline passed, or the link was reopened)."""
        self._buffer.clear()
        self._reported = 0

    def feed(self, data: bytes) -> list[M | FrameError]:
        buffer = self._buffer
        buffer += data
        out: list[M | FrameError] = []
        garbage = bytearray()
        position = 0
        while True:
            start = buffer.find(self.start, position)
            if start < 0:
                keep = self._start_prefix_at_end(position)
                self._skip(position, len(buffer) - keep, garbage)
                position = len(buffer) - keep
                break
            self._skip(position, start, garbage)
            position = start
            if not self._could_start(start):
                self._skip(start, start + 1, garbage)
                position = start + 1
                continue
            result = self._frame_at(start)
            if result is None:
                break  # incomplete: wait for more bytes
            item, size = result
            if garbage:
                out.append(FrameError("garbage", bytes(garbage)))
                garbage.clear()
            out.append(item)
            if isinstance(item, FrameError):
                self._reported = max(self._reported, start + size)
                position = start + 1
            else:
                position = start + size
        if garbage:
            out.append(FrameError("garbage", bytes(garbage)))
        del buffer[:position]
        self._reported = max(0, self._reported - position)
        return out

    def _frame_at(self, start: int) -> tuple[M | FrameError, int] | None:
        """Decode the frame whose start sequence is at ``start``: the item and
        how many bytes it spans, or None if more bytes are needed to decide."""
        raise NotImplementedError

    def _could_start(self, start: int) -> bool:
        """Whether the bytes so far at ``start`` may begin a frame (else they are garbage)."""
        return True

    def _skip(self, begin: int, end: int, garbage: bytearray) -> None:
        """Add buffer[begin:end] to the garbage, less what an error already carried."""
        begin = max(begin, self._reported)
        if end > begin:
            garbage += self._buffer[begin:end]

    def _start_prefix_at_end(self, position: int) -> int:
        """How many bytes at the end of the buffer (after ``position``) may begin a start."""
        buffer = self._buffer
        for keep in range(min(len(self.start) - 1, len(buffer) - position), 0, -1):
            if buffer.endswith(self.start[:keep]):
                return keep
        return 0
