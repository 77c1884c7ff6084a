"""The queue engine: every hall operation as a pure function of state and time.

Each operation reads a `QueueState`, checks that it is allowed, and returns an
`Outcome`: the value the caller asked for and the `Change` to write. It never
edits the state, reads a clock or touches I/O; the hall applies the change
after handing it to the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from daemon.config.model import HallConfig, Service
from daemon.queue import errors
from daemon.queue.model import (
    AT_WINDOW,
    DISSATISFIED,
    OPEN,
    QUEUED,
    RATING_LABELS,
    Call,
    CallKind,
    CallOutcome,
    DomainEvent,
    PrintState,
    Priority,
    Rating,
    Ticket,
    TicketState,
    WindowState,
    WindowStatus,
)
from daemon.queue.state import Change, QueueKey, QueueState

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    change: Change


@dataclass(frozen=True)
class CallResult:
    """What a call operation did: the ticket now called and the one it completed."""

    called: Ticket | None
    completed: Ticket | None


class _Plan:
    """The records one operation has changed so far, read through to the state."""

    def __init__(self, state: QueueState) -> None:
        self.state = state
        self.change = Change()
        self._tickets: dict[str, Ticket] = {}
        self._calls: dict[str, Call] = {}
        self._windows: dict[int, WindowState] = {}

    def ticket(self, code: str) -> Ticket:
        return self._tickets.get(code) or self.state.tickets[code]

    def call(self, code: str) -> Call:
        return self._calls.get(code) or self.state.open_calls[code]

    def window(self, number: int) -> WindowState:
        return self._windows.get(number) or self.state.windows[number]

    def put(self, *records: Ticket | Call | WindowState) -> None:
        for record in records:
            if isinstance(record, Ticket):
                self._tickets[record.code] = record
            elif isinstance(record, Call):
                self._calls[record.code] = record
            else:
                self._windows[record.number] = record

    def event(self, type_: str, at: dt.datetime, **fields: Any) -> None:
        self.change.events.append(DomainEvent(type_, at, fields))

    def done(self) -> Change:
        self.change.tickets.extend(self._tickets.values())
        self.change.calls.extend(self._calls.values())
        self.change.windows.extend(self._windows.values())
        return self.change


class QueueEngine:
    def __init__(self, config: HallConfig) -> None:
        self.config = config

    # -- the business day ----------------------------------------------------------

    def business_day(self, now: dt.datetime) -> dt.date:
        starts = self.config.hall.day_starts
        local = now.astimezone(self.config.hall.zone)
        return (local - dt.timedelta(hours=starts.hour, minutes=starts.minute)).date()

    def start_day(self, state: QueueState, now: dt.datetime) -> Change:
        """Expire yesterday's open tickets and close every window for a new day."""
        day = self.business_day(now)
        plan = _Plan(state)
        expired = 0
        for ticket in state.tickets.values():
            if ticket.state in OPEN:
                plan.put(replace(ticket, state=TicketState.EXPIRED, state_since=now))
                plan.event("ticket.expired", now, ticket=ticket.code, day=ticket.day.isoformat())
                expired += 1
        for call in state.open_calls.values():
            plan.put(replace(call, ended_at=now, outcome=CallOutcome.EXPIRED, held_since=None))
        for window in self.config.windows:
            old = state.windows.get(window.number)
            fresh = WindowState(window.number, WindowStatus.CLOSED, since=now)
            if old is None or replace(old, since=now) != fresh:
                plan.put(fresh)
                self._window_event(plan, fresh, now)
        plan.event("hall.day_started", now, day=day.isoformat(), expired=expired)
        change = plan.done()
        change.day = day
        return change

    # -- tickets -------------------------------------------------------------------

    def issue(
        self,
        state: QueueState,
        now: dt.datetime,
        service_id: str,
        priority: Priority | None = None,
        kiosk: str | None = None,
        spool: bool = False,
    ) -> Outcome[Ticket]:
        """`spool`: the kiosk prints it; the job is stored with the ticket."""
        service = self._service(service_id)
        local = now.astimezone(self.config.hall.zone)
        if not service.is_open(local):
            raise errors.ServiceClosed(*self._names(service), _hours(service))
        if state.issued_today(service.id) >= service.capacity:
            raise errors.DailyLimitReached(*self._names(service), service.capacity)
        number = self._next_number(state, service)
        if number is None:
            raise errors.DailyLimitReached(*self._names(service), service.numbers.size)
        ahead = state.waiting("service", service.id, True)
        if priority is None:
            ahead += state.waiting("service", service.id, False)
        ticket = Ticket(
            day=self._day(state),
            code=service.code(number),
            number=number,
            issued_service=service.id,
            service=service.id,
            priority=priority,
            state=TicketState.WAITING,
            issued_at=now,
            queued_at=now,
            state_since=now,
            waiting_ahead=ahead,
            kiosk=kiosk,
            print_state=PrintState.QUEUED if spool else None,
        )
        plan = _Plan(state)
        plan.put(ticket)
        plan.event(
            "ticket.issued",
            now,
            ticket=ticket.code,
            service=service.id,
            number=number,
            priority=priority,
            waiting_ahead=ahead,
            kiosk=kiosk,
        )
        return Outcome(ticket, plan.done())

    def print_done(
        self,
        state: QueueState,
        now: dt.datetime,
        code: str,
        printer: str,
        failure: str | None = None,
    ) -> Outcome[Ticket]:
        """The kiosk's printer printed the ticket, or failed to (`failure`
        says why). A failed print leaves the ticket valid in its queue."""
        ticket = self._ticket(state, code)
        plan = _Plan(state)
        if failure is None:
            done = replace(ticket, print_state=PrintState.PRINTED)
            plan.event("ticket.printed", now, ticket=code, kiosk=ticket.kiosk, printer=printer)
        else:
            done = replace(ticket, print_state=PrintState.FAILED)
            plan.event(
                "ticket.print_failed",
                now,
                ticket=code,
                kiosk=ticket.kiosk,
                printer=printer,
                reason=failure,
            )
        plan.put(done)
        return Outcome(done, plan.done())

    def reprint(
        self, state: QueueState, now: dt.datetime, code: str, kiosk: str
    ) -> Outcome[Ticket]:
        """Spool an open ticket again, on `kiosk`'s printer."""
        ticket = self._ticket(state, code)
        if ticket.state not in OPEN:
            raise errors.TicketStateConflict(code, ticket.state, "reprinted")
        plan = _Plan(state)
        spooled = replace(ticket, kiosk=kiosk, print_state=PrintState.QUEUED)
        plan.put(spooled)
        plan.event("ticket.reprint", now, ticket=code, kiosk=kiosk)
        return Outcome(spooled, plan.done())

    def cancel(self, state: QueueState, now: dt.datetime, code: str) -> Outcome[Ticket]:
        ticket = self._ticket(state, code)
        if ticket.state not in QUEUED:
            raise errors.TicketStateConflict(code, ticket.state, "cancelled")
        plan = _Plan(state)
        cancelled = replace(ticket, state=TicketState.CANCELLED, state_since=now)
        plan.put(cancelled)
        plan.event("ticket.cancelled", now, ticket=code, service=ticket.service)
        return Outcome(cancelled, plan.done())

    def reactivate(self, state: QueueState, now: dt.datetime, code: str) -> Outcome[Ticket]:
        """Put a skipped ticket back at the end of its queue, within the tolerance."""
        ticket = self._ticket(state, code)
        self._check_reactivatable(ticket, now)
        plan = _Plan(state)
        back = replace(
            ticket, state=TicketState.WAITING, state_since=now, queued_at=now, window=None
        )
        plan.put(back)
        plan.event("ticket.reactivated", now, ticket=code, service=ticket.service)
        return Outcome(back, plan.done())

    # -- calling -------------------------------------------------------------------

    def call_next(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[CallResult]:
        """Complete the window's current ticket, then call the next one waiting."""
        self._require_open(state, window)
        plan = _Plan(state)
        completed = self._finish(plan, now, window, case_number=None)
        chosen = self._pick_next(state, window)
        called = self._call(plan, now, window, chosen, CallKind.NEXT) if chosen else None
        return Outcome(CallResult(called, completed), plan.done())

    def call_ticket(
        self, state: QueueState, now: dt.datetime, window: int, code: str
    ) -> Outcome[CallResult]:
        """Call one ticket by its number (指呼), waiting or skipped within the tolerance."""
        self._require_open(state, window)
        ticket = self._ticket(state, code)
        if ticket.state is TicketState.NO_SHOW:
            self._check_reactivatable(ticket, now)
        elif ticket.state not in QUEUED:
            raise errors.TicketStateConflict(code, ticket.state, "called")
        plan = _Plan(state)
        completed = self._finish(plan, now, window, case_number=None)
        called = self._call(plan, now, window, ticket, CallKind.SPECIFIC)
        return Outcome(CallResult(called, completed), plan.done())

    def callback(
        self, state: QueueState, now: dt.datetime, window: int, code: str | None = None
    ) -> Outcome[CallResult]:
        """Call back a ticket held at this window (回呼); the oldest held if none named."""
        self._require_open(state, window)
        held = state.held_at(window)
        if code is not None:
            ticket = self._ticket(state, code)
            if ticket.code not in {t.code for t in held}:
                raise errors.TicketStateConflict(
                    code, ticket.state, f"called back at window {window}"
                )
        elif held:
            ticket = held[0]
        else:
            raise errors.WindowStateConflict(
                f"{window}号窗口没有挂起的号", f"window {window} has no held ticket"
            )
        plan = _Plan(state)
        completed = self._finish(plan, now, window, case_number=None)
        call = plan.call(ticket.code)
        assert call.held_since is not None
        held_for = (now - call.held_since).total_seconds()
        plan.put(replace(call, held_since=None, held_seconds=call.held_seconds + held_for))
        resumed = TicketState.SERVING if call.serving_at else TicketState.CALLED
        back = replace(ticket, state=resumed, state_since=now)
        plan.put(back, replace(plan.window(window), current=ticket.code))
        self._called_event(plan, now, back, call, CallKind.CALLBACK, waited_seconds=None)
        return Outcome(CallResult(back, completed), plan.done())

    def recall(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[Ticket]:
        """Announce the current ticket again (重呼), counted."""
        plan = _Plan(state)
        ticket = self._current(plan, window)
        call = plan.call(ticket.code)
        again = replace(ticket, recalls=ticket.recalls + 1)
        plan.put(again, replace(call, recalls=call.recalls + 1))
        plan.event(
            "ticket.recalled",
            now,
            ticket=ticket.code,
            window=window,
            clerk=call.clerk,
            recalls=call.recalls + 1,
        )
        return Outcome(again, plan.done())

    def start_service(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[Ticket]:
        """The called citizen has arrived at the window (开始办理)."""
        plan = _Plan(state)
        ticket = self._current(plan, window)
        if ticket.state is not TicketState.CALLED:
            raise errors.TicketStateConflict(ticket.code, ticket.state, "started")
        serving = replace(ticket, state=TicketState.SERVING, state_since=now)
        plan.put(serving, replace(plan.call(ticket.code), serving_at=now))
        plan.event("ticket.serving", now, ticket=ticket.code, window=window, clerk=ticket.clerk)
        return Outcome(serving, plan.done())

    def complete(
        self, state: QueueState, now: dt.datetime, window: int, case_number: str | None = None
    ) -> Outcome[Ticket]:
        """Finish the current ticket (办结), optionally with its case number."""
        plan = _Plan(state)
        self._current(plan, window)
        done = self._finish(plan, now, window, case_number)
        assert done is not None
        return Outcome(done, plan.done())

    def skip(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[Ticket]:
        """The called citizen did not come (过号)."""
        plan = _Plan(state)
        ticket = self._current(plan, window)
        skipped = replace(ticket, state=TicketState.NO_SHOW, state_since=now)
        call = plan.call(ticket.code)
        plan.put(
            skipped,
            replace(call, ended_at=now, outcome=CallOutcome.NO_SHOW),
            replace(plan.window(window), current=None),
        )
        plan.event("ticket.skipped", now, ticket=ticket.code, window=window, clerk=call.clerk)
        return Outcome(skipped, plan.done())

    def hold(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[Ticket]:
        """Set the current ticket aside while the citizen fetches papers (挂起)."""
        plan = _Plan(state)
        ticket = self._current(plan, window)
        held = replace(ticket, state=TicketState.HELD, state_since=now)
        call = plan.call(ticket.code)
        plan.put(held, replace(call, held_since=now), replace(plan.window(window), current=None))
        plan.event("ticket.held", now, ticket=ticket.code, window=window, clerk=call.clerk)
        return Outcome(held, plan.done())

    def transfer(
        self,
        state: QueueState,
        now: dt.datetime,
        window: int,
        service: str | None = None,
        to_window: int | None = None,
    ) -> Outcome[Ticket]:
        """Send the current ticket to another service or window, keeping its number
        and its place among the arrivals there."""
        if (service is None) == (to_window is None):
            raise errors.InvalidRequest(
                "转移需指定目标业务或目标窗口之一", "a transfer names either a service or a window"
            )
        plan = _Plan(state)
        ticket = self._current(plan, window)
        if service is not None:
            self._service(service)
            if service == ticket.service:
                raise errors.TicketStateConflict(
                    ticket.code, f"already for {service}", "transferred"
                )
        if to_window is not None:
            if to_window not in self.config.windows_by_number:
                raise errors.InvalidRequest(
                    f"没有{to_window}号窗口", f"there is no window {to_window}"
                )
            if to_window == window:
                raise errors.TicketStateConflict(
                    ticket.code, f"at window {window}", f"transferred to window {window}"
                )
        moved = replace(
            ticket,
            state=TicketState.TRANSFERRED,
            state_since=now,
            service=service or ticket.service,
            target_window=to_window,
            window=None,
        )
        call = plan.call(ticket.code)
        plan.put(
            moved,
            replace(call, ended_at=now, outcome=CallOutcome.TRANSFERRED),
            replace(plan.window(window), current=None),
        )
        plan.event(
            "ticket.transferred",
            now,
            ticket=ticket.code,
            from_window=window,
            clerk=call.clerk,
            from_service=ticket.service,
            to_service=moved.service,
            to_window=to_window,
        )
        return Outcome(moved, plan.done())

    # -- windows and clerks --------------------------------------------------------

    def open_window(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[WindowState]:
        return self._set_status(state, now, window, {WindowStatus.CLOSED}, WindowStatus.OPEN)

    def pause(
        self, state: QueueState, now: dt.datetime, window: int, reason: str | None
    ) -> Outcome[WindowState]:
        return self._set_status(
            state, now, window, {WindowStatus.OPEN}, WindowStatus.PAUSED, reason=reason
        )

    def resume(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[WindowState]:
        return self._set_status(state, now, window, {WindowStatus.PAUSED}, WindowStatus.OPEN)

    def close(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[WindowState]:
        self._require_idle(state, window)
        return self._set_status(
            state,
            now,
            window,
            {WindowStatus.OPEN, WindowStatus.PAUSED},
            WindowStatus.CLOSED,
            clerk=None,
        )

    def sign_in(
        self, state: QueueState, now: dt.datetime, window: int, staff: str
    ) -> Outcome[WindowState]:
        """A clerk takes the window; a closed window opens."""
        current = self._window(state, window)
        if staff not in self.config.staff_by_id:
            raise errors.UnknownStaff(staff)
        post = self._post(window, staff)
        if current.clerk == staff:
            raise errors.ClerkConflict(
                f"{staff} 已在{window}号窗口签到",
                f"{staff} is already signed in at window {window}",
            )
        if current.clerk is not None:
            raise errors.ClerkConflict(
                f"{window}号窗口已有工作人员 {current.clerk} 签到，请先签退",
                f"{current.clerk} is signed in at window {window}; sign them out first",
            )
        elsewhere = state.clerk_window(staff)
        if elsewhere is not None:
            raise errors.ClerkConflict(
                f"{staff} 已在{elsewhere}号窗口签到", f"{staff} is signed in at window {elsewhere}"
            )
        if post == "b":
            self._b_may_sign_in(state, now, window)
        status = WindowStatus.OPEN if current.status is WindowStatus.CLOSED else current.status
        plan = _Plan(state)
        signed = replace(current, clerk=staff, status=status, since=now)
        plan.put(signed)
        self._window_event(plan, signed, now, post=post)
        return Outcome(signed, plan.done())

    def sign_out(self, state: QueueState, now: dt.datetime, window: int) -> Outcome[WindowState]:
        current = self._window(state, window)
        if current.clerk is None:
            raise errors.ClerkConflict(
                f"{window}号窗口没有工作人员签到", f"no clerk is signed in at window {window}"
            )
        self._require_idle(state, window)
        plan = _Plan(state)
        out = replace(
            current,
            clerk=None,
            status=WindowStatus.CLOSED,
            pause_reason=None,
            since=now,
        )
        plan.put(out)
        self._window_event(plan, out, now, signed_out=current.clerk)
        return Outcome(out, plan.done())

    def announced(
        self,
        state: QueueState,
        now: dt.datetime,
        speaker: str,
        ticket: str,
        window: int,
        kind: str,
        outcome: str,
        rounds: int,
        reason: str | None = None,
    ) -> Outcome[None]:
        """What a speaker did with a call: said it (`rounds` times), cut it
        short, or dropped it (`reason`). On record as an `announcement` event;
        it changes no ticket."""
        plan = _Plan(state)
        plan.event(
            "announcement",
            now,
            speaker=speaker,
            ticket=ticket,
            window=window,
            kind=kind,
            outcome=outcome,
            rounds=rounds,
            reason=reason,
        )
        return Outcome(None, plan.done())

    def sync_windows(self, state: QueueState, now: dt.datetime) -> Change:
        """Records for configured windows the state does not have yet, closed."""
        plan = _Plan(state)
        for window in self.config.windows:
            if window.number not in state.windows:
                fresh = WindowState(window.number, WindowStatus.CLOSED, since=now)
                plan.put(fresh)
                self._window_event(plan, fresh, now)
        return plan.done()

    # -- ratings -------------------------------------------------------------------

    def rate(
        self,
        state: QueueState,
        now: dt.datetime,
        window: int,
        level: int | None,
        source: str,
        reason: str | None = None,
        ticket_code: str | None = None,
    ) -> Outcome[Rating]:
        """Record a citizen's rating of a ticket served at a window: `ticket_code`
        (the one a pad was prompted for), else the one at the window now or
        the one just finished there.

        `level` is 1 (非常满意) to 5 (非常不满意), or None when no key was pressed
        in time: that is stored as unrated, never as satisfied.
        """
        if level is not None and level not in RATING_LABELS:
            raise errors.InvalidRequest(
                f"评价等级 {level} 无效（应为 1-5）", f"rating level {level} is not 1-5"
            )
        current = self._window(state, window)
        code = ticket_code or current.current or current.last_done
        if code is None:
            raise errors.NothingToRate(window)
        ticket = self._ticket(state, code)
        if ticket.window != window or ticket.state not in AT_WINDOW | {TicketState.DONE}:
            raise errors.TicketStateConflict(code, ticket.state, f"rated at window {window}")
        if ticket.rated:
            raise errors.AlreadyRated(code)
        rating = Rating(
            day=ticket.day,
            at=now,
            window=window,
            clerk=ticket.clerk,
            ticket=code,
            case_number=ticket.case_number,
            level=level,
            source=source,
            reason=reason,
        )
        plan = _Plan(state)
        plan.put(replace(ticket, rated=True))
        plan.change.ratings.append(rating)
        fields = {
            "window": window,
            "clerk": rating.clerk,
            "ticket": code,
            "service": ticket.service,
            "case_number": rating.case_number,
            "level": level,
            "label": RATING_LABELS[level]["zh"] if level else None,
            "reason": reason,
            "source": source,
        }
        plan.event("rating.given", now, **fields)
        if level in DISSATISFIED:
            plan.event("rating.alert", now, **fields)
        return Outcome(rating, plan.done())

    # -- helpers -------------------------------------------------------------------

    def _day(self, state: QueueState) -> dt.date:
        if state.day is None:
            raise RuntimeError("the business day has not been started")
        return state.day

    def _service(self, service_id: str) -> Service:
        service = self.config.services_by_id.get(service_id)
        if service is None:
            raise errors.UnknownService(service_id)
        return service

    def _names(self, service: Service) -> tuple[str, str]:
        primary = service.names[self.config.hall.languages[0]]
        return primary, service.names.get("en", primary)

    def _ticket(self, state: QueueState, code: str) -> Ticket:
        ticket = state.tickets.get(code)
        if ticket is None:
            raise errors.UnknownTicket(code, self._day(state))
        return ticket

    def _window(self, state: QueueState, number: int) -> WindowState:
        window = state.windows.get(number)
        if window is None or number not in self.config.windows_by_number:
            raise errors.UnknownWindow(number)
        return window

    def _require_open(self, state: QueueState, number: int) -> WindowState:
        window = self._window(state, number)
        if window.status is not WindowStatus.OPEN:
            raise errors.WindowNotOpen(number, window.status, window.pause_reason)
        return window

    def _require_idle(self, state: QueueState, number: int) -> None:
        window = self._window(state, number)
        if window.current is not None:
            raise errors.CurrentTicketOpen(number, window.current)

    def _current(self, plan: _Plan, number: int) -> Ticket:
        window = self._window(plan.state, number)
        if window.current is None:
            raise errors.NoCurrentTicket(number)
        return plan.ticket(window.current)

    def _b_may_sign_in(self, state: QueueState, now: dt.datetime, number: int) -> None:
        """AB岗: the B clerk stands in for an absent A clerk: not while A is at
        work (clocked in), and not before the window opens, when A may still come."""
        window = self.config.windows_by_number[number]
        assert window.clerks is not None
        a = self.config.staff_by_id[window.clerks.a]
        if state.present(a.id):
            raise errors.ClerkConflict(
                f"A岗 {a.name} 已到岗，B岗不能在{number}号窗口签到",
                f"the A clerk {a.name} is at work: the B clerk cannot sign in at window {number}",
            )
        local = now.astimezone(self.config.hall.zone).time()
        if window.opens is not None and local < window.opens:
            opens = window.opens.strftime("%H:%M")
            raise errors.ClerkConflict(
                f"{opens}前请等待A岗 {a.name}，B岗{opens}起才能在{number}号窗口签到",
                f"the B clerk may sign in at window {number} from {opens}, "
                f"if the A clerk {a.name} has not come",
            )

    def _post(self, number: int, staff: str) -> str | None:
        clerks = self.config.windows_by_number[number].clerks
        if clerks is None:
            return None
        if staff == clerks.a:
            return "a"
        if staff == clerks.b:
            return "b"
        posts = f"A: {clerks.a}" + (f", B: {clerks.b}" if clerks.b else "")
        raise errors.ClerkConflict(
            f"{staff} 不是{number}号窗口的A岗或B岗（{posts}）",
            f"{staff} holds no post at window {number} ({posts})",
        )

    def _next_number(self, state: QueueState, service: Service) -> int | None:
        """The number after the last one issued today, wrapping from `last` to
        `first`, skipping every number already issued today."""
        first, size = service.numbers.first, service.numbers.size
        last = state.last_number(service.id)
        start = first if last is None else last + 1
        for step in range(size):
            number = first + (start - first + step) % size
            if service.code(number) not in state.tickets:
                return number
        return None

    def _pick_next(self, state: QueueState, number: int) -> Ticket | None:
        """Priority first, at most `priority_max_in_row` in a row while a normal
        ticket waits; otherwise the window's services in preference order, and
        in each the ticket that has waited longest. Tickets transferred to this
        window queue with its first service."""
        window = state.windows[number]
        services = self.config.windows_by_number[number].services
        capped = window.priority_streak >= self.config.queue.priority_max_in_row

        def first(priority: bool) -> Ticket | None:
            keys: list[QueueKey] = [("window", number, priority)]
            keys += [("service", s, priority) for s in services]
            heads = [(tier, t) for tier, k in enumerate(keys) if (t := state.first_in(k))]
            if not heads:
                return None
            return min(heads, key=lambda h: (max(h[0] - 1, 0), h[1].queued_at, h[1].number))[1]

        normal = first(False)
        if normal is not None and capped:
            return normal
        return first(True) or normal

    def _call(
        self, plan: _Plan, now: dt.datetime, number: int, ticket: Ticket, kind: CallKind
    ) -> Ticket:
        window = plan.window(number)
        no = ticket.calls + 1
        call = Call(
            day=ticket.day,
            code=ticket.code,
            no=no,
            window=number,
            clerk=window.clerk,
            service=ticket.service,
            kind=kind,
            queued_at=ticket.queued_at,
            called_at=now,
        )
        called = replace(
            ticket,
            state=TicketState.CALLED,
            state_since=now,
            window=number,
            target_window=None,
            calls=no,
            clerk=window.clerk,
        )
        streak = window.priority_streak + 1 if ticket.priority else 0
        plan.put(call, called, replace(window, current=ticket.code, priority_streak=streak))
        waited = round((now - ticket.queued_at).total_seconds(), 3)
        self._called_event(plan, now, called, call, kind, waited_seconds=waited)
        return called

    def _called_event(
        self,
        plan: _Plan,
        now: dt.datetime,
        ticket: Ticket,
        call: Call,
        kind: CallKind,
        waited_seconds: float | None,
    ) -> None:
        plan.event(
            "ticket.called",
            now,
            ticket=ticket.code,
            window=call.window,
            clerk=call.clerk,
            service=call.service,
            kind=kind,
            call=call.no,
            priority=ticket.priority,
            waited_seconds=waited_seconds,
        )

    def _finish(
        self, plan: _Plan, now: dt.datetime, number: int, case_number: str | None
    ) -> Ticket | None:
        window = plan.window(number)
        if window.current is None:
            return None
        ticket = plan.ticket(window.current)
        assert ticket.state in AT_WINDOW
        call = plan.call(ticket.code)
        done = replace(ticket, state=TicketState.DONE, state_since=now, case_number=case_number)
        ended = replace(call, ended_at=now, outcome=CallOutcome.DONE, case_number=case_number)
        plan.put(done, ended, replace(window, current=None, last_done=ticket.code))
        plan.event(
            "ticket.done",
            now,
            ticket=ticket.code,
            window=number,
            clerk=call.clerk,
            service=ticket.service,
            case_number=case_number,
            service_seconds=round(service_seconds(ended), 3),
        )
        return done

    def _check_reactivatable(self, ticket: Ticket, now: dt.datetime) -> None:
        if ticket.state is not TicketState.NO_SHOW:
            raise errors.TicketStateConflict(ticket.code, ticket.state, "reactivated")
        tolerance = self.config.queue.no_show_tolerance_minutes
        if now - ticket.state_since > dt.timedelta(minutes=tolerance):
            raise errors.ToleranceExceeded(ticket.code, ticket.state_since, tolerance)

    def _set_status(
        self,
        state: QueueState,
        now: dt.datetime,
        number: int,
        allowed: set[WindowStatus],
        status: WindowStatus,
        reason: str | None = None,
        **updates: Any,
    ) -> Outcome[WindowState]:
        window = self._window(state, number)
        if window.status not in allowed:
            raise errors.WindowStateConflict(
                f"{number}号窗口当前为{_STATUS_ZH[window.status]}，不能改为{_STATUS_ZH[status]}",
                f"window {number} is {window.status} and cannot become {status}",
            )
        plan = _Plan(state)
        new = replace(window, status=status, pause_reason=reason, since=now, **updates)
        plan.put(new)
        self._window_event(plan, new, now)
        return Outcome(new, plan.done())

    def _window_event(
        self, plan: _Plan, window: WindowState, now: dt.datetime, **extra: Any
    ) -> None:
        plan.event(
            "window.state",
            now,
            window=window.number,
            status=window.status,
            reason=window.pause_reason,
            clerk=window.clerk,
            **extra,
        )


_STATUS_ZH = {WindowStatus.OPEN: "开放", WindowStatus.PAUSED: "暂停", WindowStatus.CLOSED: "关闭"}


def service_seconds(call: Call) -> float:
    """Time at the window from the call (or the start of service) to its end,
    without the time the ticket was held."""
    assert call.ended_at is not None
    began = call.serving_at or call.called_at
    return max((call.ended_at - began).total_seconds() - call.held_seconds, 0.0)


def _hours(service: Service) -> str:
    return ", ".join(
        f"{p.start:%H:%M}-{p.end:%H:%M}" + ("" if len(p.days) == 7 else f" ({','.join(p.days)})")
        for p in service.opening_hours
    )
