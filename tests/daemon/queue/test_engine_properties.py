"""Random sequences of queue operations against the small hall, checked against a model.

The machine keeps its own model of every ticket and window (what the design in
DESIGN.md "Queue semantics" says each operation does), predicts whether each
operation is allowed, and after every step compares the engine's state with the
model. The properties the hall must keep:

1. no two tickets of one business day share a code (numbering restarts daily);
2. no ticket is lost, and each open ticket is in exactly one place: queued, the
   current ticket of one window, or held at one window;
3. at one window, never more than `priority_max_in_row` call-next calls in a row
   that call a priority ticket while a normal ticket waits for that window;
4. call-next takes the oldest ticket of the queue it calls from (and serves the
   window's services in its preference order);
5. once a business day starts, no ticket of the previous day is open.

The model also says which operations must be refused: those raise a `QueueError`
(never another exception) and leave the state as it was, and the others must
succeed. Engine operations never edit the state they are given. The
persisted machine also writes every change to a real store and checks that the
state rebuilt from disk is the state in memory, and that the hall can go on
from it (numbering continues with numbers not used that day).
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from daemon.config.loader import load_config
from daemon.config.model import HallConfig
from daemon.queue.engine import Outcome, QueueEngine
from daemon.queue.errors import QueueError
from daemon.queue.model import (
    AT_WINDOW,
    OPEN,
    QUEUED,
    Priority,
    Ticket,
    TicketState,
    WindowStatus,
)
from daemon.queue.state import Change, QueueState
from daemon.store.store import Store
from tests.conftest import Clock, small_hall, write_config

T = TypeVar("T")

SERVICES = ("social", "tax", "fund")
WINDOWS = (1, 2, 3, 4)
STAFF = ("s1", "s2", "s3", "s4")
HELD = TicketState.HELD
AT_WINDOW_OR_HELD = AT_WINDOW | {HELD}

AT_WINDOW_OPERATIONS = ("recall", "start_service", "complete", "skip", "hold")

QueueKey = tuple[str, str | int, bool]
Orders = list[tuple[str, Priority | None]]  # tickets to issue: service and priority
FollowUps = tuple[list[str], str | int, str | None]  # steps, transfer target, case number

# Rules pick a window or a ticket by number: mostly one the operation suits, now
# and then any (see `_window` and `_pick`), so that refusals are exercised too.
picks = st.integers(min_value=0, max_value=1000)
window_numbers = st.sampled_from(WINDOWS)
priorities = st.none() | st.sampled_from(list(Priority))
order = st.tuples(st.sampled_from(SERVICES), priorities)
crowds = st.lists(order, max_size=12)  # citizens waiting when the hall opens
arrivals = st.frozensets(window_numbers)  # windows whose clerk signs in at opening
transfer_targets = st.sampled_from([*SERVICES, *WINDOWS])
case_numbers = st.none() | st.from_regex(r"[0-9A-Z]{2,4}-[0-9]{1,6}", fullmatch=True)
# what a clerk does with the ticket just called
follow_ups = st.tuples(
    st.lists(st.sampled_from([*AT_WINDOW_OPERATIONS, "transfer"]), max_size=3),
    transfer_targets,
    case_numbers,
)


@functools.cache
def hall_config() -> HallConfig:
    """The small hall of tests/conftest.py, loaded once (each example has its own store)."""
    tmp = Path(tempfile.mkdtemp(prefix="hallkeeper-props-"))
    try:
        return load_config(write_config(tmp, small_hall(tmp)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class ModelTicket:
    """What the design says a ticket should look like after the operations so far."""

    day: dt.date
    code: str
    number: int
    issued_service: str
    service: str
    priority: Priority | None
    state: TicketState
    queued_at: dt.datetime
    since: dt.datetime  # when it entered its state: skip time, hold time, ...
    window: int | None = None
    target_window: int | None = None
    served: bool = False  # service started during its stay at the window
    calls: int = 0
    recalls: int = 0
    case_number: str | None = None
    rated: bool = False

    def queue_key(self) -> QueueKey:
        if self.target_window is not None:
            return ("window", self.target_window, self.priority is not None)
        return ("service", self.service, self.priority is not None)


@dataclass
class ModelWindow:
    number: int
    services: tuple[str, ...]
    status: WindowStatus = WindowStatus.CLOSED
    reason: str | None = None
    clerk: str | None = None
    current: str | None = None
    last_done: str | None = None
    held: list[str] = field(default_factory=list)
    # call-next calls in a row that called a priority ticket while a normal one waited
    priority_run: int = 0

    def fresh_day(self) -> None:
        self.status, self.reason, self.clerk = WindowStatus.CLOSED, None, None
        self.current, self.last_done, self.held, self.priority_run = None, None, [], 0


class QueueMachine(RuleBasedStateMachine):
    """The engine applied to one in-memory state, checked against the model."""

    def __init__(self) -> None:
        super().__init__()
        self.config = hall_config()
        self.engine = QueueEngine(self.config)
        self.cap = self.config.queue.priority_max_in_row
        self.tolerance = dt.timedelta(minutes=self.config.queue.no_show_tolerance_minutes)
        self.clock = Clock()
        self.state = QueueState()
        self.days: dict[dt.date, dict[str, ModelTicket]] = {}  # every ticket of every day
        self.today: dict[str, ModelTicket] = {}
        self.last_issued: dict[str, int] = {}  # service -> number issued last today
        self.ratings: dict[dt.date, list[tuple[str, int, int | None]]] = {}
        self.windows = {
            w.number: ModelWindow(w.number, tuple(w.services)) for w in self.config.windows
        }
        self._connect()
        # as the hall starts: window records from config, then the business day
        self._apply(self.engine.sync_windows(self.state, self.clock()))
        self._ensure_day()

    def _connect(self) -> None:
        """Set up persistence before the first change (none here)."""

    # -- plumbing ------------------------------------------------------------------

    def _apply(self, change: Change) -> None:
        self.state.apply(change)

    def _snapshot(self) -> tuple[object, ...]:
        s = self.state
        return (
            s.day,
            dict(s.tickets),
            dict(s.open_calls),
            dict(s.windows),
            tuple((s.issued_today(x), s.last_number(x)) for x in SERVICES),
            tuple(sorted(t.code for t in s.queued())),
            tuple(tuple(sorted(t.code for t in s.held_at(w))) for w in WINDOWS),
        )

    def _attempt(self, legal: bool, what: str, operation: Callable[[], Outcome[T]]) -> T | None:
        """Run one operation; a refusal must be a QueueError that changes nothing,
        and the model must agree on whether the operation is allowed."""
        assert self.engine.business_day(self.clock()) == self.state.day
        before = self._snapshot()
        try:
            outcome = operation()
        except QueueError as exc:
            assert self._snapshot() == before, f"{what} was refused but changed the state"
            assert not legal, f"{what} was refused although it is allowed: {exc.en}"
            return None
        assert self._snapshot() == before, f"{what} edited the state it was given"
        assert legal, f"{what} was allowed although the model says it must be refused"
        self._apply(outcome.change)
        return outcome.value

    def _ensure_day(self) -> None:
        """Start the business day, as the hall does before an operation."""
        now = self.clock()
        day = self.engine.business_day(now)
        if day == self.state.day:
            return
        old_day = self.state.day
        was_open = {c for c, t in self.today.items() if t.state in OPEN}
        change = self.engine.start_day(self.state, now)
        assert change.day == day
        assert all(t.day == old_day for t in change.tickets), "start_day changed a new ticket"
        expired = {t.code for t in change.tickets if t.state is TicketState.EXPIRED}
        assert expired == was_open, (
            f"day {day}: open tickets of {old_day} not expired: {sorted(was_open - expired)}, "
            f"expired although closed: {sorted(expired - was_open)}"
        )
        assert {t.code for t in change.tickets} == expired
        self._apply(change)
        for code in expired:
            self.today[code].state = TicketState.EXPIRED
            self.today[code].since = now
        self.today = self.days.setdefault(day, {})
        assert not self.today, "a business day started twice"
        self.last_issued = {}
        for window in self.windows.values():
            window.fresh_day()
        assert not self.state.tickets and not self.state.open_calls

    def _tick(self) -> None:
        """A second passes between one clerk's or citizen's action and the next."""
        self.clock.advance(1)
        self._ensure_day()

    def _pick(self, pick: int, wanted: Collection[TicketState]) -> str | None:
        """A ticket of today, mostly one in a state the operation wants."""
        codes = sorted(self.today)
        if not codes:
            return None
        relevant = [c for c in codes if self.today[c].state in wanted]
        pool = relevant if relevant and pick % 4 else codes
        return pool[pick % len(pool)]

    def _window(self, pick: int, suits: Callable[[ModelWindow], bool]) -> int:
        """A window, mostly one the operation suits."""
        suited = [n for n, w in self.windows.items() if suits(w)]
        pool = suited if suited and pick % 4 else list(WINDOWS)
        return pool[pick % len(pool)]

    def _eligible(self, ticket: ModelTicket, window: int) -> bool:
        """Whether call-next at `window` may call the ticket."""
        if ticket.state not in QUEUED:
            return False
        if ticket.target_window is not None:
            return ticket.target_window == window
        return ticket.service in self.windows[window].services

    def _reactivatable(self, ticket: ModelTicket) -> bool:
        return ticket.state is TicketState.NO_SHOW and self.clock() - ticket.since <= self.tolerance

    def _finish_current(
        self, window: ModelWindow, completed: Ticket | None, case: str | None
    ) -> None:
        """Check the ticket an operation completed against the window's current one."""
        if window.current is None:
            assert completed is None, f"window {window.number} completed {completed}"
            return
        assert completed is not None and completed.code == window.current, (
            f"window {window.number} should have completed {window.current}, got {completed}"
        )
        ticket = self.today[window.current]
        ticket.state, ticket.since, ticket.case_number = TicketState.DONE, self.clock(), case
        window.last_done, window.current = ticket.code, None

    def _called(self, window: ModelWindow, ticket: ModelTicket) -> None:
        ticket.state, ticket.since = TicketState.CALLED, self.clock()
        ticket.window, ticket.target_window = window.number, None
        ticket.calls += 1
        ticket.served = False
        window.current = ticket.code

    # -- tickets -------------------------------------------------------------------

    @rule(orders=st.lists(order, min_size=1, max_size=5))
    def issue(self, orders: Orders) -> None:
        self._tick()
        for service, priority in orders:
            self._issue(service, priority)

    def _can_issue(self, service_id: str) -> bool:
        issued = sum(1 for t in self.today.values() if t.issued_service == service_id)
        return issued < self.config.services_by_id[service_id].capacity

    def _check_issued(self, ticket: Ticket, service_id: str, priority: Priority | None) -> None:
        """Property 1, and numbering: the number after the last one issued today
        (the first of the range on a new day), so never one used today."""
        service = self.config.services_by_id[service_id]
        day = self.state.day
        assert day is not None and ticket.day == day
        assert ticket.code not in self.today, f"{ticket.code} issued twice on {day}"
        first, size = service.numbers.first, service.numbers.size
        last = self.last_issued.get(service_id)
        expected = first if last is None else first + (last + 1 - first) % size
        assert ticket.number == expected, (
            f"{service_id} issued number {ticket.number}, expected {expected} after {last}"
        )
        assert ticket.code == service.code(ticket.number)
        assert (ticket.state, ticket.service, ticket.priority) == (
            TicketState.WAITING,
            service_id,
            priority,
        )

    def _issue(self, service_id: str, priority: Priority | None) -> None:
        ticket = self._attempt(
            self._can_issue(service_id),
            f"issue({service_id}, {priority})",
            lambda: self.engine.issue(self.state, self.clock(), service_id, priority),
        )
        if ticket is None:
            return
        self._check_issued(ticket, service_id, priority)
        self.last_issued[service_id] = ticket.number
        now = self.clock()
        self.today[ticket.code] = ModelTicket(
            day=ticket.day,
            code=ticket.code,
            number=ticket.number,
            issued_service=service_id,
            service=service_id,
            priority=priority,
            state=TicketState.WAITING,
            queued_at=now,
            since=now,
        )

    @precondition(lambda self: bool(self.today))
    @rule(pick=picks)
    def cancel(self, pick: int) -> None:
        self._tick()
        code = self._pick(pick, QUEUED)
        if code is None:
            return
        ticket = self.today[code]
        if self._attempt(
            ticket.state in QUEUED,
            f"cancel({code})",
            lambda: self.engine.cancel(self.state, self.clock(), code),
        ):
            ticket.state, ticket.since = TicketState.CANCELLED, self.clock()

    @precondition(lambda self: bool(self.today))
    @rule(pick=picks, back=st.sampled_from([None, -1, 0, 1]))
    def reactivate(self, pick: int, back: int | None) -> None:
        """A skipped citizen comes back; `back` is when, in seconds after the
        tolerance ends (None: now)."""
        self._tick()
        code = self._pick(pick, {TicketState.NO_SHOW})
        if code is None:
            return
        ticket = self.today[code]
        if back is not None and ticket.state is TicketState.NO_SHOW:
            wait = ticket.since + self.tolerance + dt.timedelta(seconds=back) - self.clock()
            self.clock.advance(max(wait.total_seconds(), 0.0))
            self._ensure_day()
            if self.today.get(code) is not ticket:
                return  # a new business day started meanwhile
        if self._attempt(
            self._reactivatable(ticket),
            f"reactivate({code})",
            lambda: self.engine.reactivate(self.state, self.clock(), code),
        ):
            ticket.state, ticket.window = TicketState.WAITING, None
            ticket.since = ticket.queued_at = self.clock()

    # -- calling -------------------------------------------------------------------

    @rule(pick=picks, times=st.integers(min_value=1, max_value=4), then=follow_ups)
    def call_next(self, pick: int, times: int, then: FollowUps) -> None:
        self._tick()
        window = self._window(pick, lambda w: w.status is WindowStatus.OPEN)
        for _ in range(times):
            self._call_next(window)
        self._follow_up(window, then)

    def _follow_up(self, window: int, then: FollowUps) -> None:
        """What the clerk does next with the ticket at the window."""
        operation, to, case_number = then
        for step in operation:
            self._tick()
            if step == "transfer":
                self._transfer(window, to)
            else:
                self._at_window(window, step, case_number)

    def _call_next(self, number: int) -> None:
        window = self.windows[number]
        eligible = [t for t in self.today.values() if self._eligible(t, number)]
        normal_waiting = any(t.priority is None for t in eligible)
        result = self._attempt(
            window.status is WindowStatus.OPEN,
            f"call_next({number})",
            lambda: self.engine.call_next(self.state, self.clock(), number),
        )
        if result is None:
            return
        self._finish_current(window, result.completed, None)
        if result.called is None:
            assert not eligible, (
                f"window {number} called nobody while {[t.code for t in eligible]} waited for it"
            )
            window.priority_run = 0
            return
        picked = self.today.get(result.called.code)
        assert picked is not None and picked in eligible, (
            f"window {number} called {result.called.code}, which was not waiting for it"
        )
        # property 4: the oldest ticket of the queue it was called from
        older = [
            t.code
            for t in eligible
            if t.queue_key() == picked.queue_key() and t.queued_at < picked.queued_at
        ]
        assert not older, f"window {number} called {picked.code} before older {older}"
        # the window's services in its preference order (among tickets waiting for a
        # service, of the same kind: priority first is property 3's business)
        services = window.services
        if picked.target_window is None:
            preferred = [
                t.code
                for t in eligible
                if t.target_window is None
                and (t.priority is None) == (picked.priority is None)
                and services.index(t.service) < services.index(picked.service)
            ]
            assert not preferred, (
                f"window {number} called {picked.code} ({picked.service}) before {preferred} "
                f"of a service it prefers"
            )
        # property 3: the priority cap
        if picked.priority is not None and normal_waiting:
            window.priority_run += 1
            assert window.priority_run <= self.cap, (
                f"window {number} called {window.priority_run} priority tickets in a row "
                f"(the last {picked.code}) while normal tickets waited"
            )
        else:
            window.priority_run = 0
        self._called(window, picked)

    @precondition(lambda self: bool(self.today))
    @rule(window_pick=picks, pick=picks, then=follow_ups)
    def call_ticket(self, window_pick: int, pick: int, then: FollowUps) -> None:
        self._tick()
        window = self._window(window_pick, lambda w: w.status is WindowStatus.OPEN)
        code = self._pick(pick, QUEUED | {TicketState.NO_SHOW})
        if code is None:
            return
        ticket = self.today[code]
        model = self.windows[window]
        legal = model.status is WindowStatus.OPEN and (
            ticket.state in QUEUED or self._reactivatable(ticket)
        )
        result = self._attempt(
            legal,
            f"call_ticket({window}, {code})",
            lambda: self.engine.call_ticket(self.state, self.clock(), window, code),
        )
        if result is None:
            return
        self._finish_current(model, result.completed, None)
        assert result.called is not None and result.called.code == code
        if ticket.priority is None:
            model.priority_run = 0  # a normal ticket was called: the run is broken
        self._called(model, ticket)
        self._follow_up(window, then)

    @rule(window_pick=picks, pick=picks, named=st.booleans(), then=follow_ups)
    def callback(self, window_pick: int, pick: int, named: bool, then: FollowUps) -> None:
        self._tick()
        window = self._window(window_pick, lambda w: bool(w.held))
        model = self.windows[window]
        code = self._pick(pick, {HELD}) if named else None
        if named and code is None:
            return
        held_here = code in model.held if named else bool(model.held)
        result = self._attempt(
            model.status is WindowStatus.OPEN and held_here,
            f"callback({window}, {code})",
            lambda: self.engine.callback(self.state, self.clock(), window, code),
        )
        if result is None:
            return
        self._finish_current(model, result.completed, None)
        assert result.called is not None
        back = self.today[result.called.code]
        assert back.code in model.held
        if code is None:  # the ticket held longest
            oldest = min(self.today[c].since for c in model.held)
            assert back.since == oldest, f"callback took {back.code}, not the oldest held"
        else:
            assert back.code == code
        model.held.remove(back.code)
        back.state = TicketState.SERVING if back.served else TicketState.CALLED
        back.since = self.clock()
        model.current = back.code
        self._follow_up(window, then)

    @rule(
        pick=picks,
        operation=st.sampled_from(AT_WINDOW_OPERATIONS),
        case_number=case_numbers,
    )
    def at_window(self, pick: int, operation: str, case_number: str | None) -> None:
        """An operation on the ticket a window has called or is serving."""
        self._tick()
        self._at_window(self._window(pick, lambda w: w.current is not None), operation, case_number)

    def _at_window(self, window: int, operation: str, case_number: str | None) -> None:
        model = self.windows[window]
        ticket = self.today[model.current] if model.current else None
        now, state = self.clock(), self.state
        legal = ticket is not None
        what = f"{operation}({window})"
        if operation == "recall":
            value = self._attempt(legal, what, lambda: self.engine.recall(state, now, window))
            if value is not None and ticket is not None:
                ticket.recalls += 1
        elif operation == "start_service":
            legal = ticket is not None and ticket.state is TicketState.CALLED
            value = self._attempt(
                legal, what, lambda: self.engine.start_service(state, now, window)
            )
            if value is not None and ticket is not None:
                ticket.state, ticket.since, ticket.served = TicketState.SERVING, now, True
        elif operation == "complete":
            what = f"complete({window}, {case_number!r})"
            value = self._attempt(
                legal, what, lambda: self.engine.complete(state, now, window, case_number)
            )
            if value is not None:
                self._finish_current(model, value, case_number)
        elif operation == "skip":
            value = self._attempt(legal, what, lambda: self.engine.skip(state, now, window))
            if value is not None and ticket is not None:
                ticket.state, ticket.since, model.current = TicketState.NO_SHOW, now, None
        else:
            value = self._attempt(legal, what, lambda: self.engine.hold(state, now, window))
            if value is not None and ticket is not None:
                ticket.state, ticket.since, model.current = HELD, now, None
                model.held.append(ticket.code)
        if value is not None:
            assert ticket is not None and value.code == ticket.code

    @rule(pick=picks, to=transfer_targets)
    def transfer(self, pick: int, to: str | int) -> None:
        self._tick()
        self._transfer(self._window(pick, lambda w: w.current is not None), to)

    def _transfer(self, window: int, to: str | int) -> None:
        model = self.windows[window]
        ticket = self.today[model.current] if model.current else None
        service = to if isinstance(to, str) else None
        to_window = to if isinstance(to, int) else None
        if service is not None:
            legal = ticket is not None and ticket.service != service
        else:
            legal = ticket is not None and to_window != window
        moved = self._attempt(
            legal,
            f"transfer({window}, to={to!r})",
            lambda: self.engine.transfer(
                self.state, self.clock(), window, service=service, to_window=to_window
            ),
        )
        if moved is None:
            return
        assert ticket is not None and moved.code == ticket.code
        ticket.state, ticket.since, ticket.window = TicketState.TRANSFERRED, self.clock(), None
        if service is not None:
            ticket.service, ticket.target_window = service, None
        else:
            ticket.target_window = to_window
        model.current = None

    # -- windows and clerks --------------------------------------------------------

    @rule(
        pick=picks,
        operation=st.sampled_from(["open", "open", "pause", "resume", "close"]),
        reason=st.sampled_from([None, "午休", "meeting"]),
    )
    def window_status(self, pick: int, operation: str, reason: str | None) -> None:
        self._tick()
        before = {
            "open": {WindowStatus.CLOSED},
            "pause": {WindowStatus.OPEN},
            "resume": {WindowStatus.PAUSED},
            "close": {WindowStatus.OPEN, WindowStatus.PAUSED},
        }[operation]
        window = self._window(pick, lambda w: w.status in before)
        model = self.windows[window]
        now, state = self.clock(), self.state
        if operation == "open":
            if self._attempt(
                model.status is WindowStatus.CLOSED,
                f"open_window({window})",
                lambda: self.engine.open_window(state, now, window),
            ):
                model.status = WindowStatus.OPEN
        elif operation == "pause":
            if self._attempt(
                model.status is WindowStatus.OPEN,
                f"pause({window}, {reason!r})",
                lambda: self.engine.pause(state, now, window, reason),
            ):
                model.status, model.reason = WindowStatus.PAUSED, reason
        elif operation == "resume":
            if self._attempt(
                model.status is WindowStatus.PAUSED,
                f"resume({window})",
                lambda: self.engine.resume(state, now, window),
            ):
                model.status, model.reason = WindowStatus.OPEN, None
        elif self._attempt(
            model.status is not WindowStatus.CLOSED and model.current is None,
            f"close({window})",
            lambda: self.engine.close(state, now, window),
        ):
            model.status, model.reason, model.clerk = WindowStatus.CLOSED, None, None

    @rule(pick=picks, staff_pick=picks)
    def sign_in(self, pick: int, staff_pick: int) -> None:
        self._tick()
        window = self._window(pick, lambda w: w.clerk is None)
        clerks = self.config.windows_by_number[window].clerks
        signed_in = {w.clerk for w in self.windows.values()}
        free = [
            s for s in STAFF if s not in signed_in and (clerks is None or s in (clerks.a, clerks.b))
        ]
        pool = free if free and staff_pick % 4 else list(STAFF)
        self._sign_in(window, pool[staff_pick % len(pool)])

    def _sign_in(self, window: int, staff: str) -> None:
        model = self.windows[window]
        clerks = self.config.windows_by_number[window].clerks
        holds_post = clerks is None or staff in (clerks.a, clerks.b)
        elsewhere = any(w.clerk == staff for w in self.windows.values())
        if self._attempt(
            holds_post and model.clerk is None and not elsewhere,
            f"sign_in({window}, {staff})",
            lambda: self.engine.sign_in(self.state, self.clock(), window, staff),
        ):
            model.clerk = staff
            if model.status is WindowStatus.CLOSED:
                model.status = WindowStatus.OPEN

    @rule(pick=picks)
    def sign_out(self, pick: int) -> None:
        self._tick()
        self._sign_out(self._window(pick, lambda w: w.clerk is not None and w.current is None))

    @rule(pick=picks, same=st.booleans())
    def hand_over(self, pick: int, same: bool) -> None:
        """The clerk finishes the ticket at the window and signs out; the other
        post's clerk takes over (AB岗), or the same one comes back from a break."""
        self._tick()
        window = self._window(pick, lambda w: w.clerk is not None)
        clerk = self.windows[window].clerk
        if self.windows[window].current is not None:
            self._at_window(window, "complete", None)
        self._tick()
        self._sign_out(window)
        if clerk is None:
            return
        posts = self.config.windows_by_number[window].clerks
        if same or (posts is not None and posts.b is None):
            successor = clerk
        elif posts is not None:
            successor = posts.b if clerk == posts.a else posts.a
        else:
            signed_in = {w.clerk for w in self.windows.values()}
            successor = next((s for s in STAFF if s not in signed_in and s != clerk), clerk)
        self._tick()
        self._sign_in(window, successor)

    def _sign_out(self, window: int) -> None:
        model = self.windows[window]
        if self._attempt(
            model.clerk is not None and model.current is None,
            f"sign_out({window})",
            lambda: self.engine.sign_out(self.state, self.clock(), window),
        ):
            model.status, model.reason, model.clerk = WindowStatus.CLOSED, None, None

    @rule(pick=picks, level=st.none() | st.integers(min_value=0, max_value=6))
    def rate(self, pick: int, level: int | None) -> None:
        self._tick()
        window = self._window(pick, lambda w: (w.current or w.last_done) is not None)
        model = self.windows[window]
        code = model.current or model.last_done
        legal = (
            (level is None or 1 <= level <= 5) and code is not None and not self.today[code].rated
        )
        rating = self._attempt(
            legal,
            f"rate({window}, {level})",
            lambda: self.engine.rate(self.state, self.clock(), window, level, "pad"),
        )
        if rating is None:
            return
        assert code is not None
        assert (rating.ticket, rating.level, rating.window) == (code, level, window)
        self.today[code].rated = True
        self.ratings.setdefault(rating.day, []).append((code, window, level))

    # -- names that do not exist -------------------------------------------------------

    @rule(
        case=st.sampled_from(
            ["window", "service", "staff", "ticket", "other-day", "transfer", "level"]
        ),
        window=window_numbers,
    )
    def refuse_unknown(self, case: str, window: int) -> None:
        """Operations naming what does not exist are refused with a QueueError."""
        self._tick()
        e, s, now = self.engine, self.state, self.clock()
        attempts: list[tuple[str, Callable[[], Outcome[Any]]]] = []
        if case == "window":
            attempts += [
                ("call_next(9)", lambda: e.call_next(s, now, 9)),
                ("recall(9)", lambda: e.recall(s, now, 9)),
                ("open_window(9)", lambda: e.open_window(s, now, 9)),
                ("sign_in(9, s4)", lambda: e.sign_in(s, now, 9, "s4")),
                ("rate(9, 1)", lambda: e.rate(s, now, 9, 1, "pad")),
                (f"transfer({window}, to=9)", lambda: e.transfer(s, now, window, to_window=9)),
            ]
        elif case == "service":
            attempts += [
                ("issue(visa)", lambda: e.issue(s, now, "visa")),
                (f"transfer({window}, visa)", lambda: e.transfer(s, now, window, service="visa")),
            ]
        elif case == "staff":
            attempts.append((f"sign_in({window}, s9)", lambda: e.sign_in(s, now, window, "s9")))
        elif case == "ticket":
            attempts += [
                ("cancel(Z999)", lambda: e.cancel(s, now, "Z999")),
                ("reactivate(A998)", lambda: e.reactivate(s, now, "A998")),
                (f"call_ticket({window}, B997)", lambda: e.call_ticket(s, now, window, "B997")),
                (f"callback({window}, C019)", lambda: e.callback(s, now, window, "C019")),
            ]
        elif case == "other-day":
            # a code issued on an earlier day but not today names no ticket today
            earlier = sorted({c for d, ts in self.days.items() if d != s.day for c in ts})
            for code in [c for c in earlier if c not in self.today][:3]:
                attempts += [
                    (f"cancel({code})", lambda c=code: e.cancel(s, now, c)),
                    (f"reactivate({code})", lambda c=code: e.reactivate(s, now, c)),
                ]
        elif case == "transfer":
            attempts += [
                (f"transfer({window})", lambda: e.transfer(s, now, window)),
                (
                    f"transfer({window}, tax, 1)",
                    lambda: e.transfer(s, now, window, service="tax", to_window=1),
                ),
            ]
        else:
            attempts += [
                (f"rate({window}, 0)", lambda: e.rate(s, now, window, 0, "pad")),
                (f"rate({window}, 6)", lambda: e.rate(s, now, window, 6, "pad")),
            ]
        for what, operation in attempts:
            self._attempt(False, what, operation)

    # -- time ----------------------------------------------------------------------

    @initialize(arriving=arrivals, crowd=crowds)
    def morning(self, arriving: frozenset[int], crowd: Orders) -> None:
        """On the first day clerks sign in at some windows and citizens take tickets."""
        self._arrive(arriving, crowd)

    def _arrive(self, arriving: frozenset[int], crowd: Orders) -> None:
        for window in sorted(arriving):
            self._sign_in(window, f"s{window}")  # each window's A clerk; anyone at 4
        for service, priority in crowd:
            self._issue(service, priority)

    @rule(
        minutes=st.integers(min_value=0, max_value=45),
        next_day=st.sampled_from([False, False, False, True]),
        offset=st.integers(min_value=-3, max_value=240),
        arriving=arrivals,
        crowd=crowds,
    )
    def advance(
        self, minutes: int, next_day: bool, offset: int, arriving: frozenset[int], crowd: Orders
    ) -> None:
        """Let some minutes pass, or move to about the next `day_starts`, `offset`
        minutes off it (before it, the day starts with a later step). On a new day
        clerks sign in at the windows `arriving` and a crowd takes tickets."""
        day = self.state.day
        if next_day:
            self._to_next_day(offset)
        else:
            self.clock.advance(minutes * 60)
        self._ensure_day()
        if self.state.day != day:
            self._arrive(arriving, crowd)

    def _to_next_day(self, offset: int) -> None:
        starts = self.config.hall.day_starts
        local = self.clock().astimezone(self.config.hall.zone)
        boundary = local.replace(hour=starts.hour, minute=starts.minute, second=0, microsecond=0)
        if boundary <= local:
            boundary += dt.timedelta(days=1)
        target = boundary + dt.timedelta(minutes=offset)
        self.clock.advance(max((target - local).total_seconds(), 0.0))

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def properties_hold(self) -> None:
        self._check_tickets()
        self._check_places()
        self._check_windows()
        self._check_more()

    def _check_more(self) -> None:
        """Checks a subclass adds after every step."""

    def _check_tickets(self) -> None:
        """Property 2, first half: every ticket issued today is there, as expected."""
        state = self.state
        assert state.day == self.engine.business_day(self.clock())
        missing = sorted(set(self.today) - set(state.tickets))
        extra = sorted(set(state.tickets) - set(self.today))
        assert not missing and not extra, f"tickets lost: {missing}; never issued: {extra}"
        for code, expected in self.today.items():
            ticket = state.tickets[code]
            assert ticket.day == state.day
            got = (
                ticket.state,
                ticket.service,
                ticket.priority,
                ticket.number,
                ticket.queued_at,
                ticket.state_since,
                ticket.target_window,
                ticket.calls,
                ticket.recalls,
                ticket.rated,
            )
            want = (
                expected.state,
                expected.service,
                expected.priority,
                expected.number,
                expected.queued_at,
                expected.since,
                expected.target_window,
                expected.calls,
                expected.recalls,
                expected.rated,
            )
            assert got == want, f"{code}: engine has {got}, expected {want}"
            if ticket.state in AT_WINDOW_OR_HELD:
                assert ticket.window == expected.window, f"{code} at {ticket.window}"
            if ticket.state in QUEUED:
                assert ticket.window is None, f"{code} is queued but at window {ticket.window}"
            if ticket.state is TicketState.DONE:
                assert ticket.case_number == expected.case_number

    def _check_places(self) -> None:
        """Property 2, second half: queued, current at one window, or held at one."""
        state = self.state
        current = Counter(w.current for w in state.windows.values() if w.current is not None)
        held = Counter(t.code for n in WINDOWS for t in state.held_at(n))
        queued = Counter(t.code for t in state.queued())
        for code, ticket in state.tickets.items():
            places = current[code] + held[code] + queued[code]
            if ticket.state in OPEN:
                assert places == 1, (
                    f"{code} ({ticket.state}) is current at {current[code]} windows, held at "
                    f"{held[code]}, queued {queued[code]} times"
                )
            else:
                assert places == 0, f"{code} is {ticket.state} but still has a place"
            if ticket.state in AT_WINDOW:
                assert ticket.window is not None
                assert state.windows[ticket.window].current == code
            elif ticket.state is HELD:
                assert ticket.window is not None
                assert code in {t.code for t in state.held_at(ticket.window)}
            elif ticket.state in QUEUED:
                assert queued[code] == 1
        for number, window in state.windows.items():
            if window.current is not None:
                assert state.tickets[window.current].state in AT_WINDOW
                assert state.tickets[window.current].window == number
        # the per-queue counts (used for the waiting-ahead count) agree with the tickets
        keys = Counter(t.queue_key() for t in self.today.values() if t.state in QUEUED)
        for key in {*keys, *[("service", s, p) for s in SERVICES for p in (False, True)]}:
            assert state.waiting(*key) == keys[key], f"queue {key}: {state.waiting(*key)}"
        # each ticket at or held at a window has exactly its open call
        at_window = {c for c, t in state.tickets.items() if t.state in AT_WINDOW_OR_HELD}
        assert set(state.open_calls) == at_window
        for code, call in state.open_calls.items():
            ticket = state.tickets[code]
            assert (call.day, call.window, call.no) == (state.day, ticket.window, ticket.calls)
            assert (call.held_since is not None) == (ticket.state is HELD)
            assert (call.serving_at is not None) == self.today[code].served

    def _check_windows(self) -> None:
        assert set(self.state.windows) == set(WINDOWS)
        for number, model in self.windows.items():
            window = self.state.windows[number]
            got = (window.status, window.pause_reason, window.clerk, window.current)
            want = (model.status, model.reason, model.clerk, model.current)
            assert got == want, f"window {number}: engine has {got}, expected {want}"
            assert window.last_done == model.last_done
            held = sorted(t.code for t in self.state.held_at(number))
            assert held == sorted(model.held), f"window {number} holds {held}"


class PersistedQueueMachine(QueueMachine):
    """The same, with every change written to a real store, reloaded now and then."""

    def _connect(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="hallkeeper-props-"))
        self.store = Store(self.tmp / "hall.sqlite3", self.config.hall.id)

    def _apply(self, change: Change) -> None:
        self.store.write([(change, [])])
        super()._apply(change)

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _check_store(self, loaded: QueueState, every_day: bool = False) -> None:
        state = self.state
        assert loaded.day == state.day
        assert loaded.tickets == state.tickets, _diff(loaded.tickets, state.tickets)
        assert loaded.open_calls == state.open_calls, _diff(loaded.open_calls, state.open_calls)
        assert loaded.windows == state.windows, _diff(loaded.windows, state.windows)
        for service in SERVICES:
            assert loaded.issued_today(service) == state.issued_today(service)
            assert loaded.last_number(service) == state.last_number(service)
        assert sorted(t.code for t in loaded.queued()) == sorted(t.code for t in state.queued())
        for number in WINDOWS:
            assert {t.code for t in loaded.held_at(number)} == {
                t.code for t in state.held_at(number)
            }
        if every_day:
            self._check_stored_days()

    def _check_stored_days(self) -> None:
        """Property 5 on disk: every ticket of every day as expected, none of an
        earlier day still open."""
        state = self.state
        for day, tickets in self.days.items():
            stored = {t.code: t.state for t in self.store.tickets_of(day)}
            assert stored == {c: t.state for c, t in tickets.items()}, f"tickets of {day}"
            if day != state.day:
                still_open = sorted(c for c, s in stored.items() if s in OPEN)
                assert not still_open, f"tickets of {day} still open on {state.day}: {still_open}"
            ratings = sorted(
                ((r.ticket, r.window, r.level) for r in self.store.ratings_of(day)), key=str
            )
            assert ratings == sorted(self.ratings.get(day, []), key=str), f"ratings of {day}"

    def _check_more(self) -> None:
        self._check_store(self.store.load_state())

    def _ensure_day(self) -> None:
        day = self.state.day
        super()._ensure_day()
        if day is not None and day != self.state.day:
            self._check_stored_days()

    @rule(reopen=st.booleans())
    def reload(self, reopen: bool) -> None:
        """Restart from the store, as the hall does after a failed write or a restart."""
        if reopen:
            self.store.close()
            self.store = Store(self.tmp / "hall.sqlite3", self.config.hall.id)
        loaded = self.store.load_state()
        self._check_store(loaded, every_day=True)
        self.state = loaded
        # issuing goes on from the reloaded state with a number not used today (the
        # engine does not edit the state, and this outcome is not applied)
        for service in SERVICES:
            try:
                ticket = self.engine.issue(loaded, self.clock(), service).value
            except QueueError as exc:
                assert not self._can_issue(service), f"after reloading: {exc.en}"
            else:
                self._check_issued(ticket, service, None)


def _diff(loaded: Mapping[Any, object], memory: Mapping[Any, object]) -> str:
    """The records that differ between the store's state and the one in memory."""
    keys = sorted({*loaded, *memory}, key=str)
    lines = [
        f"{key}: store {loaded.get(key)} / memory {memory.get(key)}"
        for key in keys
        if loaded.get(key) != memory.get(key)
    ]
    return "\n".join(lines)


_settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    report_multiple_bugs=False,
    phases=[phase for phase in Phase if phase is not Phase.explain],  # explaining is slow
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

TestQueueEngineProperties = QueueMachine.TestCase
TestQueueEngineProperties.settings = _settings

TestPersistedQueueProperties = PersistedQueueMachine.TestCase
TestPersistedQueueProperties.settings = _settings
