"""A terminal that pushes over HTTP (ADMS). It has no link of its own to
watch: it is online while it pushes or sends its heartbeat, and offline once
it has been quiet for `QUIET_SECONDS` (it heartbeats every few seconds)."""

from __future__ import annotations

import time

from devices.attendance_config import AdmsConfig
from devices.bus_device import DeviceContext
from devices.health import DeviceCounters, DeviceHealth, DeviceState, HealthTracker

QUIET_SECONDS = 120.0


class AdmsTerminal:
    kind = "adms-terminal"

    def __init__(self, config: AdmsConfig, context: DeviceContext) -> None:
        self.config = config
        self.tracker = HealthTracker(
            config.id, self.kind, config.model, f"adms {config.serial_number}", context.clock
        )
        self.counters = DeviceCounters()
        self.punches = 0
        self._heard_at: float | None = None

    @property
    def id(self) -> str:
        return self.config.id

    def heard(self) -> None:
        """A request from the terminal (on the loop)."""
        self._heard_at = time.monotonic()
        self.counters.frames_in += 1
        self.tracker.seen()
        self.tracker.set(DeviceState.ONLINE, None)

    def health(self) -> DeviceHealth:
        if self._heard_at is not None and time.monotonic() - self._heard_at > QUIET_SECONDS:
            self.tracker.set(DeviceState.OFFLINE, f"no request for {QUIET_SECONDS:.0f} s")
        health = self.tracker.health
        health.counters = self.counters
        health.details = {"serial_number": self.config.serial_number, "punches": self.punches}
        return health
