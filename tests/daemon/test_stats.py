"""A day's statistics per service, window and clerk, from what the store holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.stats import day_stats
from daemon.store.store import Store
from tests.conftest import Clock

pytestmark = pytest.mark.anyio


@pytest.fixture
async def hall(config: HallConfig, clock: Clock) -> AsyncIterator[Hall]:
    store = Store(config.storage.path, config.hall.id)
    h = Hall(config, store, clock=clock)
    await h.start(day_timer=False)
    yield h
    await h.stop()
    store.close()


async def act(hall: Hall, clock: Clock, seconds: float, operation: str, *args: Any) -> Any:
    clock.advance(seconds)
    return await hall.perform(getattr(hall.engine, operation), *args)


def stats(hall: Hall) -> dict[str, Any]:
    day = hall.committed.day
    store = hall.store
    return day_stats(hall.config, store.tickets_of(day), store.calls_of(day), store.ratings_of(day))


async def test_a_day_of_one_window(hall: Hall, clock: Clock) -> None:
    await act(hall, clock, 0, "sign_in", 1, "s1")
    for _ in range(4):
        clock.advance(10)
        await hall.issue("social")
    await hall.issue("tax")
    await act(hall, clock, 60, "call_next", 1)  # A001 waited 90 s
    await act(hall, clock, 300, "complete", 1, "CASE-1")  # served 300 s
    await act(hall, clock, 0, "call_next", 1)  # A002 waited 380 s
    await act(hall, clock, 100, "call_next", 1)  # A002 done after 100 s; A003 waited 470 s
    await act(hall, clock, 30, "skip", 1)  # A003 no-show
    await act(hall, clock, 0, "call_next", 1)  # A004 waited 490 s
    await act(hall, clock, 50, "transfer", 1, "tax")
    figures = stats(hall)

    social = next(s for s in figures["services"] if s["id"] == "social")
    assert (social["issued"], social["served"], social["no_show"]) == (4, 2, 1)
    assert social["completion_rate"] == round(2 / 3, 4)  # A004 left for tax
    assert social["waiting_time"] == {
        "count": 4,
        "mean_seconds": 357.5,
        "p90_seconds": 490.0,
        "max_seconds": 490.0,
    }
    assert social["service_time"] == {
        "count": 2,
        "mean_seconds": 200.0,
        "p90_seconds": 300.0,
        "max_seconds": 300.0,
    }
    assert social["satisfaction"] == {
        "rated": 0,
        "unrated": 0,
        "levels": {str(n): 0 for n in range(1, 6)},
        "rate": None,
    }
    tax = next(s for s in figures["services"] if s["id"] == "tax")
    assert (tax["issued"], tax["served"], tax["completion_rate"]) == (1, 0, 0.0)

    window = next(w for w in figures["windows"] if w["number"] == 1)
    assert (window["calls"], window["served"], window["no_show"], window["transferred"]) == (
        4,
        2,
        1,
        1,
    )
    assert window["completion_rate"] == 0.5
    [clerk] = figures["clerks"]
    assert clerk["id"] == "s1" and clerk["name"] == "张伟" and clerk["served"] == 2
    assert figures["hall"]["issued"] == 5


async def test_satisfaction_fills_in_once_ratings_exist(hall: Hall, clock: Clock) -> None:
    await act(hall, clock, 0, "sign_in", 1, "s1")
    for level in (1, 2, 4, None):
        await hall.issue("social")
        await act(hall, clock, 10, "call_next", 1)
        await act(hall, clock, 60, "complete", 1)
        await act(hall, clock, 5, "rate", 1, level, "pad-1")
    figures = stats(hall)
    expected = {
        "rated": 3,
        "unrated": 1,
        "levels": {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0},
        "rate": round(2 / 3, 4),
    }
    assert figures["hall"]["satisfaction"] == expected
    assert next(s for s in figures["services"] if s["id"] == "social")["satisfaction"] == expected
    assert figures["windows"][0]["satisfaction"] == expected
    assert figures["clerks"][0]["satisfaction"] == expected
    assert next(s for s in figures["services"] if s["id"] == "tax")["satisfaction"]["rate"] is None
