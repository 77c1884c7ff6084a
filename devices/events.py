"""What devices tell the hall, and what the hall shows on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class KeypadAction(StrEnum):
    CALL = "call"  # 呼叫: complete the current ticket, call the next
    RECALL = "recall"  # 重呼
    RATE = "rate"  # 评价: ask the citizen to rate
    PAUSE = "pause"  # 暂停, or resume when paused
    TRANSFER = "transfer"  # 转移 to the window typed before the key
    SKIP = "skip"  # 弃号 / 过号
    HOLD = "hold"  # 挂起
    CALLBACK = "callback"  # 回呼 a held ticket


@dataclass(frozen=True)
class KeyPressed:
    device: str
    window: int
    action: KeypadAction
    target: int | None = None  # the window typed before TRANSFER


@dataclass(frozen=True)
class RatingEntered:
    """A citizen's key on an evaluation pad, or its prompt timing out (level None)."""

    device: str
    window: int
    ticket: str | None  # the ticket the pad was prompted for, if it was
    level: int | None  # 1 非常满意 … 5 非常不满意; None: unrated
    # Called once the rating is stored, or refused for good (already rated):
    # the pad shows the citizen the key as delivered only then.
    settled: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)


@dataclass(frozen=True)
class FingerIdentified:
    """A finger on a reader matched the template at `page` of its library."""

    reader: str
    page: int
    score: int


@dataclass(frozen=True)
class FingerUnknown:
    """A finger on a reader matched no template."""

    reader: str


@dataclass(frozen=True)
class TerminalPunches:
    """Punches from an attendance terminal: live ones, or its log read after a
    (re)connect, which repeats punches already stored (the hall keeps each once).
    Times are the terminal's local clock, naive."""

    terminal: str
    punches: tuple[tuple[str, dt.datetime], ...]  # (terminal user id, time)
    live: bool


DeviceEvent = KeyPressed | RatingEntered | FingerIdentified | FingerUnknown | TerminalPunches


@dataclass(frozen=True)
class WindowView:
    """A window as its screen and keypad show it."""

    number: int
    status: str  # open, paused, closed
    reason: str | None
    ticket: str | None  # called or being served
    number_of_ticket: int | None
    waiting: int  # tickets this window could call
    clerk_name: str | None
    staff_no: str | None


@dataclass(frozen=True)
class HallView:
    """What the main hall screen shows: the latest calls and the queues."""

    calls: tuple[tuple[str, int], ...]  # (ticket, window), newest first
    waiting: tuple[tuple[dict[str, str], int], ...]  # (service names, count)
