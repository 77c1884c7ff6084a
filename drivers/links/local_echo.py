"""Local echo: an RS-485 adapter that hands back every byte the host writes.

Some adapters keep their receiver on while they send. Passed up, the copy
would look like a device talking: an FF68 keypad's key echoed by the host
comes back as the keypad's resend, to be echoed again, and again; a command
comes back as the keypad's answer, so a dead keypad looks alive.

`LocalEcho` learns that the adapter echoes from a copy of a write that comes
back complete sooner than any device could send the same bytes (a device
waits for the host's frame to end, then needs as long again to send its
own), and from then on drops the copy of each write. Until it has learned,
nothing is dropped. An adapter thought to echo whose copies stop coming
(several writes in a row) is taken not to echo after all.

Sans-I/O: bytes and the caller's monotonic times in, bytes out.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

__all__ = ["ECHO_WAIT", "MISSES_TO_FORGET", "LocalEcho"]

log = logging.getLogger(__name__)

# How long after a write its copy may still come from an adapter known to
# echo: longer than a USB adapter holds bytes back (16 ms by default on FTDI).
ECHO_WAIT = 0.1
# Writes in a row without a copy after which the adapter is taken not to echo.
MISSES_TO_FORGET = 3
WATCHED = 8  # writes whose copies may still be on their way


@dataclass
class _Written:
    """A frame the link wrote, watched for the adapter's copy of it."""

    data: bytes
    learn_until: float  # a copy complete by then is the adapter's: no device is so fast
    drop_until: float  # an adapter known to echo has sent the copy by then
    matched: int = 0  # bytes of the copy seen so far


class LocalEcho:
    """Tells an echoing adapter's copies of the link's writes from device bytes."""

    def __init__(self, byte_seconds: float, where: str) -> None:
        """`byte_seconds`: one byte's time on the wire; `where` names the link in logs."""
        self.byte_seconds = byte_seconds
        self.where = where
        self.on = False  # the adapter is known to echo
        self._written: deque[_Written] = deque()
        self._misses = 0

    def reset(self) -> None:
        """A new port: maybe another adapter, learned again."""
        self.on = False
        self._written.clear()
        self._misses = 0

    def wrote(self, data: bytes, started: float, now: float) -> None:
        """The link wrote `data`, beginning at `started` (before the write call) and
        done at `now`. The frame is off the wire a frame time after `started` (the
        bus was quiet); a device's frame of the same bytes ends a frame time after
        that at the earliest; a copy complete within half of that is the
        adapter's. Counted from `started`, so a writer held up after its write
        cannot make a device's answer look that fast."""
        frame_time = len(data) * self.byte_seconds
        learn_until = started + frame_time * 1.5
        if len(self._written) == WATCHED:
            self._forget(self._written.popleft())
        self._written.append(_Written(data, learn_until, max(now, learn_until) + ECHO_WAIT))

    def received(self, data: bytes, now: float) -> bytes:
        """`data` as read at `now`, without the adapter's copies once it is known to
        echo; learns that it does."""
        while data and self._written:
            written = self._written[0]
            rest = written.data[written.matched :]
            count = _common_prefix(data, rest)
            if now > written.drop_until or count < min(len(data), len(rest)) or not count:
                self._forget(self._written.popleft())  # device bytes, or the next copy
                continue
            written.matched += count
            if written.matched < len(written.data):  # the copy goes on in the next read
                return data[count:] if self.on else data
            self._written.popleft()
            if not self.on and now <= written.learn_until:
                self.on = True
                log.warning(
                    "%s: the adapter hands back what the host sends (local echo); "
                    "its copies are dropped",
                    self.where,
                )
            if not self.on:
                return data  # a device's answer with the same bytes
            self._misses = 0
            data = data[count:]
        return data

    def _forget(self, written: _Written) -> None:
        """No copy of `written` came: for an adapter thought to echo, a miss."""
        if not self.on or written.matched:
            return
        self._misses += 1
        if self._misses >= MISSES_TO_FORGET:
            self.on = False
            self._misses = 0
            log.warning(
                "%s: %d writes in a row came back without a copy: the adapter does not "
                "echo after all, nothing is dropped",
                self.where,
                MISSES_TO_FORGET,
            )


def _common_prefix(first: bytes, second: bytes) -> int:
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count
