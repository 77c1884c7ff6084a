"""What the citizens, clerks and faults of a simulated day did, as they saw it:
the checks hold the hall's records against this."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Received:
    """A ticket a citizen took from a kiosk's printer and read."""

    code: str
    citizen: int
    kiosk: str


@dataclass(frozen=True)
class RatingGiven:
    """A key a citizen pressed on a pad for `ticket`; `delivered`: the daemon
    acknowledged it (the pad stops resending then)."""

    ticket: str
    level: int
    pad: str
    delivered: bool


@dataclass(frozen=True)
class FingerGiven:
    """A staff member's finger on a reader (`taken`: the reader imaged it) or a
    punch on an attendance terminal (kept in its log: always taken)."""

    source: str
    staff: str
    taken: bool


@dataclass(frozen=True)
class FaultDone:
    at: str
    kind: str
    target: str
    minutes: float
    note: str = ""


@dataclass
class Ledger:
    received: list[Received] = field(default_factory=list)
    ratings: list[RatingGiven] = field(default_factory=list)
    fingers: list[FingerGiven] = field(default_factory=list)
    faults: list[FaultDone] = field(default_factory=list)
    #: Citizens who went home without a ticket, by reason.
    no_ticket: Counter[str] = field(default_factory=Counter)
    #: What else happened: citizens served, left waiting, transferred, skipped, pauses.
    counts: Counter[str] = field(default_factory=Counter)
    daemon_restarts: int = 0
