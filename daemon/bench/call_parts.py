"""Where a call's time went, from the call key to the window screen, in four parts
that add up to the whole; and, for a slow call, which part made it slow.

All four are read off moments on the machine's monotonic clock, which the
bench, the simulators and the daemon share:

- `bus_before_key`: from the key to the start of its frame on the wire (the
  keypad waits for a quiet bus before it talks);
- `key_resends`: from that start to the start of the send the daemon stored
  (more than nothing only when the keypad had to send the key again: its
  frame met a frame of the host's on the wire, or was not acknowledged in
  time);
- `key_to_stored`: from there to the call's `ticket.called` event, which the
  daemon publishes once the call is stored (the key frame on the wire, the
  daemon, the store's commit);
- `stored_to_screen`: from the event to the last byte of the screen's frame
  (the frames the host sends for the call, and any it had to wait for).

A slow call's cause is the part furthest above that part's median over all
calls of the run, so a part every call spends alike (the frames' own wire
time) never counts as a cause.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from statistics import median


@dataclass(frozen=True)
class CallParts:
    """Seconds each part of one call took."""

    bus_before_key: float
    key_resends: float
    key_to_stored: float
    stored_to_screen: float

    def ms(self) -> dict[str, float]:
        return {f"{name}_ms": round(value * 1000, 1) for name, value in asdict(self).items()}


PARTS = tuple(f.name for f in fields(CallParts))


def call_parts(
    pressed: float, sent_at: list[float], stored: float, shown: float
) -> CallParts | None:
    """The parts of a call pressed at `pressed`, its key frame sent at each of
    `sent_at`, stored at `stored` and shown at `shown`; None when no send
    started before the call was stored (the keypad's record is of another
    press)."""
    sends = [at for at in sent_at if pressed <= at < stored]
    if not sends:
        return None
    return CallParts(
        bus_before_key=sends[0] - pressed,
        key_resends=sends[-1] - sends[0],
        key_to_stored=stored - sends[-1],
        stored_to_screen=shown - stored,
    )


def medians(calls: list[CallParts]) -> CallParts | None:
    """Each part's median over `calls`."""
    if not calls:
        return None
    return CallParts(*(median(getattr(c, name) for c in calls) for name in PARTS))


def cause(call: CallParts, typical: CallParts) -> str:
    """The part of `call` furthest above its `typical` value."""
    return max(PARTS, key=lambda name: getattr(call, name) - getattr(typical, name))
