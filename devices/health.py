"""The health a device reports, in the shape DESIGN.md "Health" gives."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class DeviceState(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"  # reachable, serving, with a fault: paper near end, rising errors
    FAULT = "fault"  # reachable but cannot serve: paper out, cover open
    OFFLINE = "offline"  # no answer, link gone, bus offline
    DISABLED = "disabled"


@dataclass
class DeviceCounters:
    frames_out: int = 0
    frames_in: int = 0
    errors: int = 0
    reconnects: int = 0


@dataclass
class DeviceHealth:
    id: str
    kind: str
    model: str
    link: str | None
    state: DeviceState
    reason: str | None
    since: dt.datetime
    last_seen: dt.datetime | None = None
    counters: DeviceCounters = field(default_factory=DeviceCounters)
    details: dict[str, Any] = field(default_factory=dict)
    history: list[Transition] = field(default_factory=list)  # the latest, oldest first


@dataclass(frozen=True)
class Transition:
    at: dt.datetime
    state: DeviceState
    reason: str | None


HISTORY = 20  # transitions kept per device


class HealthTracker:
    """One device's health: its state with the reason and since when, logged
    once per change and kept in a short history, and when it was last heard from."""

    def __init__(
        self,
        device: str,
        kind: str,
        model: str,
        link: str | None,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._clock = clock
        self.health = DeviceHealth(
            id=device,
            kind=kind,
            model=model,
            link=link,
            state=DeviceState.OFFLINE,
            reason="starting",
            since=clock(),
        )
        self.health.history.append(
            Transition(self.health.since, self.health.state, self.health.reason)
        )

    @property
    def state(self) -> DeviceState:
        return self.health.state

    def set(self, state: DeviceState, reason: str | None) -> None:
        if (state, reason) == (self.health.state, self.health.reason):
            return
        changed = state != self.health.state
        self.health.state = state
        self.health.reason = reason
        if changed:
            self.health.since = self._clock()
            self.health.history.append(Transition(self.health.since, state, reason))
            del self.health.history[:-HISTORY]
            log.log(
                logging.INFO if state is DeviceState.ONLINE else logging.WARNING,
                "device %s is %s%s",
                self.health.id,
                state,
                f": {reason}" if reason else "",
            )

    def seen(self) -> None:
        self.health.last_seen = self._clock()
