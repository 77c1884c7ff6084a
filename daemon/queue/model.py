"""Records of the queue: tickets, calls at windows, windows, ratings.

Records are immutable; an operation produces new versions of the records it
touches (see `change.py`). Times are aware datetimes in the hall's zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TicketState(StrEnum):
    WAITING = "waiting"
    TRANSFERRED = "transferred"  # waiting at the service or window it was transferred to
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


QUEUED = frozenset({TicketState.WAITING, TicketState.TRANSFERRED})
AT_WINDOW = frozenset({TicketState.CALLED, TicketState.SERVING})
OPEN = QUEUED | AT_WINDOW | {TicketState.HELD}


class PrintState(StrEnum):
    """A kiosk ticket's paper: spooled for its printer, printed, or failed."""

    QUEUED = "queued"
    PRINTED = "printed"
    FAILED = "failed"


class Priority(StrEnum):
    """Green-channel reasons (绿色通道) that put a ticket ahead of normal ones."""

    ELDERLY = "elderly"
    DISABLED = "disabled"
    PREGNANT = "pregnant"
    MILITARY = "military"
    APPOINTMENT = "appointment"


class WindowStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class CallKind(StrEnum):
    NEXT = "next"
    SPECIFIC = "specific"  # 指呼
    CALLBACK = "callback"  # 回呼 after a hold


class CallOutcome(StrEnum):
    DONE = "done"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    EXPIRED = "expired"


RATING_LABELS: dict[int, dict[str, str]] = {
    1: {"zh": "非常满意", "en": "very satisfied"},
    2: {"zh": "满意", "en": "satisfied"},
    3: {"zh": "基本满意", "en": "basically satisfied"},
    4: {"zh": "不满意", "en": "dissatisfied"},
    5: {"zh": "非常不满意", "en": "very dissatisfied"},
}
DISSATISFIED = frozenset({4, 5})


@dataclass(frozen=True, slots=True)
class Ticket:
    day: dt.date
    code: str
    number: int
    issued_service: str
    service: str
    priority: Priority | None
    state: TicketState
    issued_at: dt.datetime
    queued_at: dt.datetime  # arrival order in its queue; kept across a transfer
    state_since: dt.datetime
    waiting_ahead: int
    kiosk: str | None = None
    window: int | None = None  # where it is called, served or held
    target_window: int | None = None  # the window it waits for after a transfer
    clerk: str | None = None  # clerk of its latest call
    calls: int = 0
    recalls: int = 0
    case_number: str | None = None
    rated: bool = False
    print_state: PrintState | None = None  # None: not printed by hallkeeper

    @property
    def key(self) -> tuple[dt.date, str]:
        return (self.day, self.code)


@dataclass(frozen=True, slots=True)
class Call:
    """One stay of a ticket at a window, from its call to its outcome."""

    day: dt.date
    code: str
    no: int
    window: int
    clerk: str | None
    service: str
    kind: CallKind
    queued_at: dt.datetime
    called_at: dt.datetime
    serving_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    outcome: CallOutcome | None = None
    recalls: int = 0
    held_seconds: float = 0.0
    held_since: dt.datetime | None = None
    case_number: str | None = None

    @property
    def is_open(self) -> bool:
        return self.outcome is None


@dataclass(frozen=True, slots=True)
class WindowState:
    number: int
    status: WindowStatus
    since: dt.datetime
    pause_reason: str | None = None
    clerk: str | None = None
    current: str | None = None  # ticket code called or served now
    last_done: str | None = None  # the ticket a rating refers to once done
    priority_streak: int = 0


@dataclass(frozen=True, slots=True)
class Rating:
    day: dt.date
    at: dt.datetime
    window: int
    clerk: str | None
    ticket: str | None
    case_number: str | None
    level: int | None  # 1 非常满意 .. 5 非常不满意; None when no key was pressed in time
    source: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: str
    at: dt.datetime
    fields: dict[str, Any]


class PunchMethod(StrEnum):
    FINGER = "finger"  # a fingerprint reader of the hall's own
    TERMINAL = "terminal"  # an attendance terminal, live or from its log
    ADMS = "adms"  # a terminal that pushes over HTTP


@dataclass(frozen=True, slots=True)
class Punch:
    """One clock-in or clock-out (打卡); whether it is in or out follows from
    its order among the staff member's punches of the day."""

    key: str  # names the punch at its source, so a punch read twice is stored once
    day: dt.date
    at: dt.datetime
    staff: str
    source: str  # the reader's or terminal's device id
    method: PunchMethod


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A staff member's finger in a reader's template library; staff None: deleted."""

    reader: str
    page: int
    staff: str | None
    enrolled_at: dt.datetime
