"""What systemd hears from the daemon (DESIGN.md "Health"): READY=1 once the
devices are set up and the API listens (not once every device is online),
STATUS= with the device summary, RELOADING=1 around a config reload,
STOPPING=1, and WATCHDOG=1 while the event loop is responsive.

The watchdog is fed by a task on the event loop itself: a blocked loop
cannot feed it, and a loop that woke later than `threshold` does not, so
systemd restarts a hung hall. Device health plays no part: one dead printer
must not restart the hall.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from daemon.runtime import DaemonInfo
from daemon.sd_notify import Notifier
from devices.health import DeviceHealth, DeviceState

log = logging.getLogger(__name__)

STATUS_SECONDS = 2.0
PROBLEMS_SHOWN = 3
REASON_CHARS = 60


class Supervisor:
    def __init__(self, notifier: Notifier, info: DaemonInfo) -> None:
        self.notifier = notifier
        self.info = info
        interval = notifier.watchdog_seconds
        #: how often WATCHDOG=1 goes, and how late the loop may wake and still send it
        self.period = interval / 4 if interval else None
        self.threshold = interval / 2 if interval else None
        self._status = ""
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self.notifier.enabled:
            return
        self._tasks.append(asyncio.create_task(self._report_status(), name="sd-status"))
        if self.period is not None:
            self._tasks.append(asyncio.create_task(self._feed_watchdog(), name="sd-watchdog"))

    def ready(self) -> None:
        self._status = status_line(self.info.devices())
        self.notifier.send(READY=1, STATUS=self._status)

    def reloading(self) -> None:
        self.notifier.send(RELOADING=1, STATUS="重新加载配置 reloading the config")

    def stopping(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        self.notifier.send(STOPPING=1, STATUS="正在停止 stopping")

    async def _feed_watchdog(self) -> None:
        assert self.period is not None and self.threshold is not None
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.period)
            late = time.monotonic() - before - self.period
            if late < self.threshold:
                self.notifier.send(WATCHDOG=1)
            else:
                log.warning(
                    "the event loop was blocked for %.1f s (over %.1f s): watchdog not fed",
                    late,
                    self.threshold,
                )

    async def _report_status(self) -> None:
        while True:
            await asyncio.sleep(STATUS_SECONDS)
            if self.info.state != "running":
                continue
            line = status_line(self.info.devices())
            if line != self._status:
                self._status = line
                self.notifier.send(STATUS=line)


def status_line(devices: Sequence[DeviceHealth]) -> str:
    """`14/15 devices online 设备在线; kiosk-1-printer fault: paper_out`."""
    online = sum(d.state is DeviceState.ONLINE for d in devices)
    line = f"{online}/{len(devices)} devices online 设备在线"
    problems = [d for d in devices if d.state is not DeviceState.ONLINE]
    for device in problems[:PROBLEMS_SHOWN]:
        reason = (device.reason or "")[:REASON_CHARS]
        line += f"; {device.id} {device.state}{f': {reason}' if reason else ''}"
    if len(problems) > PROBLEMS_SHOWN:
        line += f"; +{len(problems) - PROBLEMS_SHOWN} more"
    return line
