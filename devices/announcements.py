"""What a speaker is asked to say, and the queue that decides what it says next.

The queue holds at most one announcement per window: when calls pile up, the
newest for a window takes the place of the one still waiting (a citizen
wants the number now at the window, not the one before it), and keeps its
place in the line. An announcement that has waited longer than the hall's
`max_age` is dropped, never said late. The speaker puts the repeats of an
announcement back at the end of the line while others wait, so that every
call is heard once before any is heard again. Pure logic: time is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Phrase:
    """What is said in one language: tokens of that language's clip pack."""

    language: str
    tokens: tuple[str, ...]


class Outcome(StrEnum):
    SAID = "said"  # every round
    CUT = "cut"  # said, but a newer call for the window came before the last round
    SUPERSEDED = "superseded"  # a newer call for the window took its place before it was said
    EXPIRED = "expired"  # waited longer than max_age; not said (or not said again)
    FAILED = "failed"  # the output failed
    DEFERRED = "deferred"  # not final: its repeats wait behind the calls queued meanwhile


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    rounds: int  # times the phrases were said
    seconds: float  # of sound played
    reason: str | None = None


@dataclass(frozen=True, eq=False)
class Announcement:
    window: int
    ticket: str
    kind: str  # call, recall, test
    at: dt.datetime  # when the hall called: the age counts from here
    phrases: tuple[Phrase, ...]  # one round: each language once, in order
    repeats: int
    done: Callable[[Result], None] | None = None  # called on the event loop
    rounds_said: int = 0  # before it was deferred
    seconds_said: float = 0.0

    def label(self) -> str:
        return f"{self.kind}-{self.ticket}-w{self.window}"


class AnnouncementQueue:
    def __init__(self, max_age: dt.timedelta) -> None:
        self.max_age = max_age
        self._waiting: OrderedDict[int, Announcement] = OrderedDict()

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, announcement: Announcement) -> Announcement | None:
        """Queue `announcement`; returns the one for its window it replaced."""
        replaced = self._waiting.get(announcement.window)
        self._waiting[announcement.window] = announcement  # an existing key keeps its place
        return replaced

    def take(self, now: dt.datetime) -> tuple[Announcement | None, list[Announcement]]:
        """The next announcement to say, and those that grew too old to say."""
        expired = []
        while self._waiting:
            _, first = self._waiting.popitem(last=False)
            if self.too_old(first, now):
                expired.append(first)
            else:
                return first, expired
        return None, expired

    def has_newer(self, announcement: Announcement) -> bool:
        """Is a newer announcement for its window waiting?"""
        return announcement.window in self._waiting

    def too_old(self, announcement: Announcement, now: dt.datetime) -> bool:
        return now - announcement.at > self.max_age
