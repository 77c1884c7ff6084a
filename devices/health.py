"""The health a device reports, in the shape DESIGN.md "Health" gives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
