"""What every sans-I/O codec shares: the error item a decoder yields, and a hex dump.

A decoder never raises on what comes off the wire: line noise, a device
with other firmware and a half-received frame are normal on an RS-485 bus.
It returns a `FrameError` as an item among the decoded messages instead, so
the caller sees errors in stream order, can count them towards the device's
health and log them, and keeps decoding the frames that follow.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FrameError", "hexdump"]

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
