"""The announcement queue: at most one call per window, the newest; nothing too old."""

from __future__ import annotations

import datetime as dt

from devices.announcements import Announcement, AnnouncementQueue, Phrase

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
MAX_AGE = dt.timedelta(seconds=60)


def call(window: int, ticket: str, seconds: float = 0.0) -> Announcement:
    at = T0 + dt.timedelta(seconds=seconds)
    return Announcement(window, ticket, "call", at, (Phrase("zh", (ticket,)),), 2)


def drain(queue: AnnouncementQueue, now: dt.datetime) -> list[str]:
    said = []
    while (taken := queue.take(now)[0]) is not None:
        said.append(taken.ticket)
    return said


def test_calls_are_said_in_the_order_they_came() -> None:
    queue = AnnouncementQueue(MAX_AGE)
    for window, ticket in [(3, "A001"), (1, "B001"), (2, "C001")]:
        assert queue.put(call(window, ticket)) is None

    assert drain(queue, T0) == ["A001", "B001", "C001"]


def test_the_newest_call_of_a_window_takes_the_place_of_the_waiting_one() -> None:
    queue = AnnouncementQueue(MAX_AGE)
    first = call(1, "A001")
    queue.put(first)
    queue.put(call(2, "B001"))

    replaced = queue.put(call(1, "A002", seconds=5))

    assert replaced is first
    assert drain(queue, T0 + dt.timedelta(seconds=6)) == ["A002", "B001"]  # in A001's place


def test_a_call_older_than_the_limit_is_dropped_not_said() -> None:
    queue = AnnouncementQueue(MAX_AGE)
    queue.put(call(1, "A001"))
    queue.put(call(2, "B001", seconds=30))

    taken, expired = queue.take(T0 + dt.timedelta(seconds=61))

    assert taken is not None and taken.ticket == "B001"
    assert [a.ticket for a in expired] == ["A001"]
    assert len(queue) == 0


def test_a_newer_call_waiting_is_seen_by_the_one_being_said() -> None:
    queue = AnnouncementQueue(MAX_AGE)
    queue.put(call(1, "A001"))
    saying, _ = queue.take(T0)
    assert saying is not None
    assert not queue.has_newer(saying)

    queue.put(call(2, "B001"))
    assert not queue.has_newer(saying)
    queue.put(call(1, "A002"))
    assert queue.has_newer(saying)


def test_age_counts_from_the_call() -> None:
    queue = AnnouncementQueue(MAX_AGE)
    announcement = call(1, "A001")

    assert not queue.too_old(announcement, T0 + MAX_AGE)
    assert queue.too_old(announcement, T0 + MAX_AGE + dt.timedelta(milliseconds=1))
