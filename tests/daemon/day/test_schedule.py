"""The crowd and the fault schedule drawn from a seed."""

from collections import Counter
from pathlib import Path

import pytest

from daemon.config.loader import load_config
from daemon.day.crowd import plan_crowd
from daemon.day.faults import MARGIN_MINUTES, plan_faults
from daemon.day.layout import citizen_services, day_problems, kiosks_of, layout_of
from daemon.day.settings import FAULT_KINDS, DaySettings

DEMO = Path(__file__).parents[3] / "config" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    return load_config(DEMO)


def settings(**values) -> DaySettings:
    return DaySettings.model_validate(values)


def crowd(demo, day: DaySettings):
    layout = layout_of(demo, day)
    return plan_crowd(day, citizen_services(day, demo), kiosks_of(day, layout))


def test_the_same_seed_gives_the_same_crowd_and_another_seed_another(demo):
    day = settings(seed=5, crowd={"citizens": 60})
    assert crowd(demo, day) == crowd(demo, day)
    assert crowd(demo, day) != crowd(demo, settings(seed=6, crowd={"citizens": 60}))


def test_citizens_come_in_opening_hours_along_the_curve(demo):
    day = settings(
        opens="09:00",
        closes="13:00",
        crowd={
            "citizens": 400,
            "curve": [
                {"at": "09:00", "weight": 3},
                {"at": "11:00", "weight": 0},
                {"at": "12:00", "weight": 1},
            ],
            "services": {"housing-fund": 1},
            "kiosks": ["kiosk-2"],
        },
    )
    plans = crowd(demo, day)
    assert len(plans) == 400
    assert [p.arrives for p in plans] == sorted(p.arrives for p in plans)
    assert all(0 <= p.arrives < 120 or 180 <= p.arrives <= 240 for p in plans)
    morning = sum(p.arrives < 120 for p in plans)
    assert 315 < morning < 370  # 3 x 2 h against 1 x 1 h: six in seven (343)
    assert {p.service for p in plans} == {"housing-fund"}
    assert {p.kiosk for p in plans} == {"kiosk-2"}


def test_ratings_follow_their_weights_and_some_leave_without(demo):
    plans = crowd(
        demo, settings(crowd={"citizens": 500, "ratings": {1: 1, 4: 1}, "no_rating": 0.2})
    )
    levels = Counter(p.rating for p in plans)
    assert set(levels) == {1, 4, None}
    assert 60 < levels[None] < 140


def test_random_faults_are_the_same_for_a_seed_and_each_kind_comes_once(demo):
    day = settings(seed=9, faults={"random": {"count": 8, "minutes": {"min": 5, "max": 15}}})
    layout = layout_of(demo, day)
    faults = plan_faults(day, layout, broker=True, daemon=True)
    assert faults == plan_faults(day, layout, broker=True, daemon=True)
    assert faults != plan_faults(
        settings(seed=10, faults=day.faults.model_dump()), layout, broker=True, daemon=True
    )
    assert len(faults) == 8
    assert set(FAULT_KINDS) <= {f.kind for f in faults}
    for fault in faults:
        assert fault.at >= MARGIN_MINUTES and fault.ends <= day.day_minutes - MARGIN_MINUTES
        assert fault.target in layout.targets(fault.kind, broker=True, daemon=True)
    for a in faults:
        for b in faults:
            if a is not b and a.target == b.target:
                assert a.ends <= b.at or b.ends <= a.at, (a, b)


def test_faults_the_processes_cannot_do_are_not_drawn(demo):
    day = settings(faults={"random": {"count": 10}})
    faults = plan_faults(day, layout_of(demo, day), broker=False, daemon=False)
    assert faults and not {"broker-down", "daemon-kill"} & {f.kind for f in faults}


def test_fixed_faults_keep_their_time_and_target(demo):
    day = settings(
        faults={
            "fixed": [
                {"at": "10:30", "kind": "paper-out", "target": "kiosk-2-printer", "minutes": 7}
            ]
        }
    )
    (fault,) = plan_faults(day, layout_of(demo, day), broker=False, daemon=False)
    assert (fault.at, fault.kind, fault.target, fault.minutes) == (
        90,
        "paper-out",
        "kiosk-2-printer",
        7,
    )


def test_a_day_file_that_does_not_fit_the_hall_is_refused(demo):
    day = settings(
        crowd={"services": {"passports": 1}, "kiosks": ["kiosk-9"]},
        clerks={"windows": [1, 42]},
        faults={"fixed": [{"at": "10:00", "kind": "bus-unplug", "target": "keypad-1"}]},
    )
    problems = {(p.where, p.message) for p in day_problems(day, demo, layout_of(demo, day))}
    assert ("crowd.services.passports", "the hall has no such service") in problems
    assert ("crowd.kiosks[0]", "no printer prints for 'kiosk-9' (kiosk-1, kiosk-2)") in problems
    assert ("clerks.windows[1]", "no window 42") in problems
    assert (
        "faults.fixed[0].target",
        "bus-unplug cannot strike 'keypad-1' (candidates: bus-1, bus-2, bus-hall)",
    ) in problems


def test_a_service_no_staffed_window_serves_is_refused(demo):
    day = settings(clerks={"windows": [5, 6]}, crowd={"services": {"social-security": 1}})
    problems = day_problems(day, demo, layout_of(demo, day))
    assert [(p.where, p.message) for p in problems] == [
        (
            "crowd.services.social-security",
            "no staffed window with a keypad and an A clerk serves it",
        )
    ]
