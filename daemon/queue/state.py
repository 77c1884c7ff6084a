"""The queue's state for one business day, and the changes operations make to it.

An operation never edits the state: it returns a `Change` holding the new
versions of the records it touched and the events it caused. The hall writes
the change to the store, and the same `apply` brings any copy of the state up
to date, so the state rebuilt from the store is the state that was planned.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter
from dataclasses import dataclass, field

from daemon.queue.model import (
    QUEUED,
    Call,
    DomainEvent,
    Fingerprint,
    Punch,
    Rating,
    Ticket,
    TicketState,
    WindowState,
)

# A queue is the tickets waiting for one service (or, after a transfer to a
# window, for one window), split into priority and normal ones.
QueueKey = tuple[str, str | int, bool]
_HeapEntry = tuple[dt.datetime, int, str]


@dataclass
class Change:
    """New versions of records plus the events they cause, written together."""

    tickets: list[Ticket] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    windows: list[WindowState] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    punches: list[Punch] = field(default_factory=list)
    fingerprints: list[Fingerprint] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    day: dt.date | None = None  # set when the change starts a business day

    def __bool__(self) -> bool:
        return bool(
            self.tickets
            or self.calls
            or self.windows
            or self.ratings
            or self.punches
            or self.fingerprints
            or self.events
            or self.day
        )


def queue_key(ticket: Ticket) -> QueueKey:
    priority = ticket.priority is not None
    if ticket.target_window is not None:
        return ("window", ticket.target_window, priority)
    return ("service", ticket.service, priority)


class QueueState:
    """Today's tickets, open calls and windows, with indexes for calling."""

    def __init__(self, day: dt.date | None = None) -> None:
        self.windows: dict[int, WindowState] = {}
        self.fingerprints: dict[tuple[str, int], str] = {}  # (reader, page) -> staff
        self._start(day)

    def _start(self, day: dt.date | None) -> None:
        """Forget the previous day's tickets and calls; windows carry over."""
        self.day = day
        self.tickets: dict[str, Ticket] = {}
        self.open_calls: dict[str, Call] = {}
        self._heaps: dict[QueueKey, list[_HeapEntry]] = {}
        self._queued: Counter[QueueKey] = Counter()
        self._issued: Counter[str] = Counter()
        self._last_issued: dict[str, tuple[dt.datetime, int]] = {}
        self._held: dict[int, set[str]] = {}
        self.punches: dict[str, Punch] = {}  # today's, by key

    def apply(self, change: Change) -> None:
        if change.day is not None and change.day != self.day:
            self._start(change.day)
        for ticket in change.tickets:
            self._put_ticket(ticket)
        for call in change.calls:
            if call.day != self.day:
                continue
            if call.is_open:
                self.open_calls[call.code] = call
            elif (old := self.open_calls.get(call.code)) is not None and old.no == call.no:
                del self.open_calls[call.code]
        for window in change.windows:
            self.windows[window.number] = window
        for punch in change.punches:
            if punch.day == self.day:
                self.punches[punch.key] = punch
        for finger in change.fingerprints:
            if finger.staff is None:
                self.fingerprints.pop((finger.reader, finger.page), None)
            else:
                self.fingerprints[(finger.reader, finger.page)] = finger.staff

    def copy(self) -> QueueState:
        twin = QueueState(self.day)
        twin.apply(
            Change(
                tickets=list(self.tickets.values()),
                calls=list(self.open_calls.values()),
                windows=list(self.windows.values()),
                punches=list(self.punches.values()),
            )
        )
        twin.fingerprints = dict(self.fingerprints)
        return twin

    # -- questions the engine asks -------------------------------------------------

    def punches_of(self, staff: str) -> list[Punch]:
        """A staff member's punches today, in time order."""
        return sorted((p for p in self.punches.values() if p.staff == staff), key=lambda p: p.at)

    def present(self, staff: str) -> bool:
        """Clocked in and not out: punches alternate in, out, in... by their order."""
        return len(self.punches_of(staff)) % 2 == 1

    def issued_today(self, service: str) -> int:
        return self._issued[service]

    def last_number(self, service: str) -> int | None:
        """The number of the ticket issued last today for `service`."""
        last = self._last_issued.get(service)
        return last[1] if last else None

    def waiting(self, kind: str, target: str | int, priority: bool) -> int:
        return self._queued[(kind, target, priority)]

    def first_in(self, key: QueueKey) -> Ticket | None:
        """The ticket that has waited longest in one queue."""
        heap = self._heaps.get(key)
        while heap:
            ticket = self._member(key, heap[0])
            if ticket is not None:
                return ticket
            heapq.heappop(heap)
        return None

    def members(self, key: QueueKey) -> list[Ticket]:
        """The tickets in one queue, longest waiting first."""
        entries = sorted(set(self._heaps.get(key, ())))
        return [t for entry in entries if (t := self._member(key, entry)) is not None]

    def _member(self, key: QueueKey, entry: _HeapEntry) -> Ticket | None:
        """The ticket a heap entry stands for, if it is still waiting in that queue
        (entries of tickets that have left are dropped lazily)."""
        queued_at, _, code = entry
        ticket = self.tickets.get(code)
        if (
            ticket is not None
            and ticket.state in QUEUED
            and queue_key(ticket) == key
            and ticket.queued_at == queued_at
        ):
            return ticket
        return None

    def held_at(self, window: int) -> list[Ticket]:
        return sorted(
            (self.tickets[c] for c in self._held.get(window, ())), key=lambda t: t.state_since
        )

    def clerk_window(self, staff: str) -> int | None:
        return next((w.number for w in self.windows.values() if w.clerk == staff), None)

    def queued(self) -> list[Ticket]:
        """Every waiting ticket, oldest first."""
        waiting = [t for t in self.tickets.values() if t.state in QUEUED]
        return sorted(waiting, key=lambda t: (t.queued_at, t.number))

    # -- indexes -------------------------------------------------------------------

    def _put_ticket(self, ticket: Ticket) -> None:
        if ticket.day != self.day:
            return
        old = self.tickets.get(ticket.code)
        if old is None:
            self._issued[ticket.issued_service] += 1
            issued = (ticket.issued_at, ticket.number)
            last = self._last_issued.get(ticket.issued_service)
            if last is None or issued > last:
                self._last_issued[ticket.issued_service] = issued
        else:
            self._unindex(old)
        self.tickets[ticket.code] = ticket
        if ticket.state in QUEUED:
            key = queue_key(ticket)
            self._queued[key] += 1
            entry = (ticket.queued_at, ticket.number, ticket.code)
            heapq.heappush(self._heaps.setdefault(key, []), entry)
        elif ticket.state is TicketState.HELD and ticket.window is not None:
            self._held.setdefault(ticket.window, set()).add(ticket.code)

    def _unindex(self, ticket: Ticket) -> None:
        if ticket.state in QUEUED:
            self._queued[queue_key(ticket)] -= 1
        elif ticket.state is TicketState.HELD and ticket.window is not None:
            self._held.get(ticket.window, set()).discard(ticket.code)
