"""What systemd hears, over a real notify socket: READY and STATUS with the
device summary, WATCHDOG=1 while the event loop answers (whatever the
devices do) and not while it is blocked, STOPPING=1."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import pytest

from daemon import supervisor as supervisor_module
from daemon.runtime import DaemonInfo
from daemon.sd_notify import Notifier
from daemon.supervisor import Supervisor, status_line
from devices.health import DeviceHealth, DeviceState
from tests.conftest import ZONE
from tests.notify_listener import NotifyListener
from tests.waiting import until

pytestmark = pytest.mark.anyio

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=ZONE)


def device(name: str, state: DeviceState, reason: str | None = None) -> DeviceHealth:
    return DeviceHealth(name, "ticket-printer", "escpos-printer", None, state, reason, NOW)


def supervised(listener: NotifyListener, devices: list[DeviceHealth], **env: str) -> Supervisor:
    info = DaemonInfo(started_at=NOW, devices=lambda: devices)
    info.state = "running"
    return Supervisor(Notifier({"NOTIFY_SOCKET": f"@{listener.name}", **env}), info)


async def test_ready_says_how_many_devices_are_online(listener: NotifyListener) -> None:
    devices = [
        device("screen-1", DeviceState.ONLINE),
        device("kiosk-1-printer", DeviceState.FAULT, "paper_out"),
    ]
    supervised(listener, devices).ready()
    message = await until(lambda: listener.messages("READY=1"), what="READY")
    assert message == [
        "READY=1\nSTATUS=1/2 devices online 设备在线; kiosk-1-printer fault: paper_out"
    ]


async def test_status_follows_the_devices(
    listener: NotifyListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor_module, "STATUS_SECONDS", 0.05)
    devices = [device("keypad-1", DeviceState.ONLINE)]
    supervisor = supervised(listener, devices)
    supervisor.start()
    supervisor.ready()
    devices[0] = device("keypad-1", DeviceState.OFFLINE, "no answer at address 1 (3 commands)")
    await until(
        lambda: (
            "STATUS=0/1 devices online 设备在线; keypad-1 offline: no answer at address 1 "
            "(3 commands)" in listener.messages("STATUS=")
        ),
        what="the new status",
    )
    supervisor.stopping()
    await until(lambda: listener.messages("STOPPING=1"), what="STOPPING")


async def test_the_watchdog_is_fed_while_the_loop_answers_and_never_while_it_is_blocked(
    listener: NotifyListener, caplog: pytest.LogCaptureFixture
) -> None:
    # every device is down: that must not starve the watchdog
    devices = [
        device("kiosk-1-printer", DeviceState.OFFLINE, "no answer to DLE EOT"),
        device("screen-1", DeviceState.FAULT, "bus_offline"),
    ]
    supervisor = supervised(listener, devices, WATCHDOG_USEC="400000")  # every 0.1 s
    supervisor.start()
    await until(lambda: len(listener.pings()) >= 5, what="watchdog pings with every device down")

    blocked_at = time.monotonic()
    time.sleep(1.0)  # the event loop hangs
    freed_at = time.monotonic()
    await until(lambda: [at for at in listener.pings() if at > freed_at], what="pings again")
    supervisor.stopping()

    during = [at for at in listener.pings() if blocked_at + 0.3 < at < freed_at]
    assert during == []
    assert "the event loop was blocked for" in caplog.text
    assert caplog.records[-1].levelno == logging.WARNING


async def test_without_systemd_nothing_runs() -> None:
    info = DaemonInfo(started_at=NOW)
    supervisor = Supervisor(Notifier({"WATCHDOG_USEC": "400000"}), info)
    before = asyncio.all_tasks()
    supervisor.start()
    supervisor.ready()
    assert asyncio.all_tasks() == before
    supervisor.stopping()


def test_the_status_line_names_the_first_problems_and_counts_the_rest() -> None:
    devices = [device(f"pad-{n}", DeviceState.OFFLINE, "x" * 100) for n in range(5)]
    line = status_line([device("screen-1", DeviceState.ONLINE), *devices])
    assert line.startswith("1/6 devices online 设备在线; pad-0 offline: " + "x" * 60 + ";")
    assert line.endswith("; +2 more")
    assert "pad-3" not in line
