"""What the daemon knows about itself, for the health endpoint."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from daemon.events.zmq_feed import ZmqFeed
from devices.health import DeviceHealth
from drivers.bus import BusMaster


def hallkeeper_version() -> str:
    try:
        return version("hallkeeper")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class DaemonInfo:
    started_at: dt.datetime
    version: str = field(default_factory=hallkeeper_version)
    started_monotonic: float = field(default_factory=time.monotonic)
    state: str = "starting"
    loop_lag_ms: float = 0.0
    feed: ZmqFeed | None = None
    mqtt: str | None = None  # where the MQTT bridge publishes, for the start-up lines
    voice: str | None = None  # where the speakers play, likewise
    devices: Callable[[], list[DeviceHealth]] = list
    buses: Callable[[], list[BusMaster]] = list
    #: the MQTT bridge's connection and outbox (`MqttBridge.outbox_state`), when MQTT is on
    mqtt_outbox: Callable[[], dict[str, Any]] | None = None
    #: called with each loop lag sample, in seconds (the metrics' histogram)
    lag_observers: list[Callable[[float], None]] = field(default_factory=list)

    async def watch_loop_lag(self, interval: float = 0.5) -> None:
        """Measure how late the loop wakes up: the figure systemd's watchdog and
        the health endpoint report."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(interval)
            lag = max(time.monotonic() - before - interval, 0.0)
            self.loop_lag_ms = lag * 1000
            for observe in self.lag_observers:
                observe(lag)
