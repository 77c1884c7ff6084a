"""Clocks the terminal tests move by hand (the leftover-thread check is in
tests/simulators/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest


class WallClock:
    """The local wall-clock time a terminal starts from (naive), moved by hand."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 11, 25, 9, 0, 0)) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Monotonic:
    """A monotonic clock moved by hand, for reboots in the sans-I/O tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()
