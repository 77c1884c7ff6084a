"""The compressed clock of a simulated day: hall time = opening + speed x real elapsed."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable


class DayClock:
    """Minutes of hall time since the hall opened, running `speed` times real time.

    `monotonic` is the real clock (seconds); tests pass their own.
    """

    def __init__(
        self,
        opens: dt.time,
        speed: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.opens = opens
        self.speed = speed
        self._monotonic = monotonic
        self._started = monotonic()

    def minutes(self) -> float:
        """Hall minutes since opening."""
        return (self._monotonic() - self._started) * self.speed / 60

    def real_seconds(self, minutes: float) -> float:
        """How long `minutes` of hall time take in real seconds."""
        return minutes * 60 / self.speed

    def at(self, minutes: float) -> dt.time:
        """The hall clock time `minutes` after opening."""
        start = dt.datetime.combine(dt.date(2000, 1, 1), self.opens)
        return (start + dt.timedelta(minutes=minutes)).time()

    def label(self, minutes: float | None = None) -> str:
        """HH:MM of the hall clock, now or `minutes` after opening."""
        return self.at(self.minutes() if minutes is None else minutes).strftime("%H:%M")

    async def sleep(self, minutes: float) -> None:
        """Sleep `minutes` of hall time."""
        await asyncio.sleep(max(0.0, self.real_seconds(minutes)))

    async def until(self, minutes: float) -> None:
        """Sleep until `minutes` after opening (at once if that has passed)."""
        await self.sleep(minutes - self.minutes())


def minutes_after(opens: dt.time, time: dt.time) -> float:
    """Minutes from `opens` to `time` on one day (negative if before)."""
    return (
        (time.hour - opens.hour) * 60
        + (time.minute - opens.minute)
        + (time.second - opens.second) / 60
    )
