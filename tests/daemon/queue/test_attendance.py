"""Punches, clocking at a window's reader, A/B posts, fingerprint templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from daemon.config.model import HallConfig
from daemon.queue import errors
from daemon.queue.attendance import Attendance, DuplicatePunch
from daemon.queue.engine import Outcome, QueueEngine
from daemon.queue.model import PunchMethod, WindowStatus
from daemon.queue.state import QueueState
from tests.conftest import Clock, small_hall


class Hall:
    def __init__(self, config: HallConfig, clock: Clock) -> None:
        self.engine = QueueEngine(config)
        self.attendance = Attendance(self.engine)
        self.state = QueueState()
        self.clock = clock
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.apply(Outcome(None, self.engine.start_day(self.state, clock())))

    def apply(self, outcome: Outcome[Any]) -> Any:
        self.state.apply(outcome.change)
        self.events += [(e.type, e.fields) for e in outcome.change.events]
        return outcome.value

    def do(self, operation: Callable[..., Outcome[Any]], *args: Any) -> Any:
        return self.apply(operation(self.state, self.clock.advance(60), *args))

    def finger(self, window: int, staff: str) -> Any:
        return self.do(self.attendance.clock_at_window, window, staff, f"reader-{window}")


@pytest.fixture
def hall(make_config: Callable[..., HallConfig], clock: Clock, tmp_path: Any) -> Hall:
    windows = small_hall(tmp_path)["windows"]
    windows[0] = {**windows[0], "opens": "09:30"}
    return Hall(make_config(windows=windows), clock)


def test_a_finger_at_a_windows_reader_punches_and_signs_the_clerk_in_then_out(
    hall: Hall,
) -> None:
    punch, window, refused = hall.finger(1, "s1")
    assert (punch.staff, punch.method, refused) == ("s1", PunchMethod.FINGER, None)
    assert window.clerk == "s1" and window.status is WindowStatus.OPEN
    assert hall.state.present("s1")
    assert [t for t, _ in hall.events[-2:]] == ["attendance.punch", "window.state"]
    assert hall.events[-2][1]["direction"] == "in"

    _, window, refused = hall.finger(1, "s1")
    assert refused is None and window.clerk is None
    assert not hall.state.present("s1")
    assert hall.events[-2][1]["direction"] == "out"


def test_the_b_clerk_waits_for_the_opening_time(hall: Hall) -> None:
    assert hall.clock().time() < dt.time(9, 30)
    punch, window, refused = hall.finger(1, "s2")
    assert window is None and isinstance(refused, errors.ClerkConflict)
    assert "09:30" in refused.zh and "09:30" in refused.en
    assert hall.state.punches[punch.key] == punch, "the punch counts all the same"
    assert hall.events[-1][0] == "window.sign_in_refused"

    hall.clock.advance(3600)  # 10:0x: A has not come
    _, window, refused = hall.finger(1, "s2")
    assert refused is None and window.clerk == "s2"


def test_the_b_clerk_is_refused_while_the_a_clerk_is_at_work(hall: Hall) -> None:
    hall.do(hall.attendance.punch, "s1", "terminal-1", PunchMethod.TERMINAL)  # A clocked in
    hall.clock.advance(3600)
    _, window, refused = hall.finger(1, "s2")
    assert window is None
    assert refused is not None and "张伟" in refused.zh and "A clerk" in refused.en


def test_an_unknown_staff_member_or_a_punch_read_twice_is_refused(hall: Hall) -> None:
    at = hall.clock()
    hall.do(hall.attendance.punch, "s3", "zk-1", PunchMethod.TERMINAL, at, "zk-1:7:x")
    with pytest.raises(DuplicatePunch):
        hall.do(hall.attendance.punch, "s3", "zk-1", PunchMethod.TERMINAL, at, "zk-1:7:x")
    with pytest.raises(errors.UnknownStaff):
        hall.do(hall.attendance.punch, "nobody", "zk-1", PunchMethod.TERMINAL)
    assert len(hall.state.punches) == 1


def test_an_unknown_finger_is_an_event_not_a_punch(hall: Hall) -> None:
    hall.do(hall.attendance.unknown_finger, "reader-1")
    assert hall.events[-1] == ("attendance.unknown_finger", {"source": "reader-1"})
    assert hall.state.punches == {}


def test_templates_are_enrolled_and_forgotten(hall: Hall) -> None:
    hall.do(hall.attendance.enroll, "reader-1", 3, "s1")
    assert hall.state.fingerprints == {("reader-1", 3): "s1"}
    hall.do(hall.attendance.forget, "reader-1", 3)
    assert hall.state.fingerprints == {}
    with pytest.raises(errors.InvalidRequest):
        hall.do(hall.attendance.forget, "reader-1", 3)
    with pytest.raises(errors.UnknownStaff):
        hall.do(hall.attendance.enroll, "reader-1", 4, "nobody")
