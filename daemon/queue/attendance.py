"""Attendance operations: punches, clocking at a window's reader, fingerprint
templates. Pure like the queue engine (time passed in), and written through
the same store transaction as the events they cause."""

from __future__ import annotations

import datetime as dt

from daemon.queue import errors
from daemon.queue.engine import Outcome, QueueEngine, _Plan
from daemon.queue.model import DomainEvent, Fingerprint, Punch, PunchMethod, WindowState
from daemon.queue.state import QueueState


class DuplicatePunch(errors.QueueError):
    status = 409
    code = "duplicate_punch"

    def __init__(self, key: str) -> None:
        super().__init__(f"该打卡记录已存在：{key}", f"this punch is stored already: {key}")


class Attendance:
    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.config = engine.config

    def punch(
        self,
        state: QueueState,
        now: dt.datetime,
        staff: str,
        source: str,
        method: PunchMethod,
        at: dt.datetime | None = None,
        key: str | None = None,
    ) -> Outcome[Punch]:
        """A clock-in or clock-out made `at` (now if not given); `key` names it
        at its source, so a punch read again from a terminal's log is refused."""
        plan = _Plan(state)
        punch = self._punch(plan, state, now, staff, source, method, at, key)
        return Outcome(punch, plan.done())

    def clock_at_window(
        self, state: QueueState, now: dt.datetime, window: int, staff: str, source: str
    ) -> Outcome[tuple[Punch, WindowState | None, errors.QueueError | None]]:
        """A finger at a window's reader: a punch, and the clerk signs in there
        (or out, if signed in there). A refused sign-in or sign-out still
        leaves the punch, and says why in `window.sign_in_refused`."""
        plan = _Plan(state)
        punch = self._punch(plan, state, now, staff, source, PunchMethod.FINGER, None, None)
        change = plan.done()
        after = state.copy()
        after.apply(change)
        signing = self.engine.sign_out if after.windows[window].clerk == staff else None
        try:
            if signing is not None:
                outcome = signing(after, now, window)
            else:
                outcome = self.engine.sign_in(after, now, window, staff)
        except errors.QueueError as refused:
            change.events.append(_refusal(now, window, staff, refused, "out" if signing else "in"))
            return Outcome((punch, None, refused), change)
        change.windows += outcome.change.windows
        change.events += outcome.change.events
        return Outcome((punch, outcome.value, None), change)

    def unknown_finger(self, state: QueueState, now: dt.datetime, source: str) -> Outcome[None]:
        """A finger no template matches: counted and evented, never a punch."""
        plan = _Plan(state)
        plan.event("attendance.unknown_finger", now, source=source)
        return Outcome(None, plan.done())

    def enroll(
        self, state: QueueState, now: dt.datetime, reader: str, page: int, staff: str
    ) -> Outcome[Fingerprint]:
        if staff not in self.config.staff_by_id:
            raise errors.UnknownStaff(staff)
        plan = _Plan(state)
        finger = Fingerprint(reader, page, staff, now)
        plan.change.fingerprints.append(finger)
        plan.event("staff.fingerprint_enrolled", now, staff=staff, reader=reader, page=page)
        return Outcome(finger, plan.done())

    def forget(
        self, state: QueueState, now: dt.datetime, reader: str, page: int
    ) -> Outcome[Fingerprint]:
        staff = state.fingerprints.get((reader, page))
        if staff is None:
            raise errors.InvalidRequest(
                f"读卡器 {reader} 第 {page} 页没有指纹", f"no template at page {page} of {reader}"
            )
        plan = _Plan(state)
        finger = Fingerprint(reader, page, None, now)
        plan.change.fingerprints.append(finger)
        plan.event("staff.fingerprint_deleted", now, staff=staff, reader=reader, page=page)
        return Outcome(finger, plan.done())

    def _punch(
        self,
        plan: _Plan,
        state: QueueState,
        now: dt.datetime,
        staff: str,
        source: str,
        method: PunchMethod,
        at: dt.datetime | None,
        key: str | None,
    ) -> Punch:
        if staff not in self.config.staff_by_id:
            raise errors.UnknownStaff(staff)
        at = at or now
        key = key or f"{source}:{at.isoformat()}"
        if key in state.punches:
            raise DuplicatePunch(key)
        punch = Punch(key, self.engine.business_day(at), at, staff, source, method)
        plan.change.punches.append(punch)
        before = [p for p in state.punches_of(staff) if p.at < at and p.day == punch.day]
        plan.event(
            "attendance.punch",
            now,
            staff=staff,
            source=source,
            method=method,
            punched_at=at.isoformat(),
            direction="in" if len(before) % 2 == 0 else "out",
        )
        return punch


def _refusal(
    now: dt.datetime, window: int, staff: str, refused: errors.QueueError, direction: str
) -> DomainEvent:
    return DomainEvent(
        f"window.sign_{direction}_refused",
        now,
        {"window": window, "staff": staff, "reason": refused.en, "reason_zh": refused.zh},
    )
