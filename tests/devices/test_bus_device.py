"""Health of a device on a bus, as DESIGN.md "Health" gives it."""

from __future__ import annotations

import pytest

from devices.bus_device import MISSES_TO_OFFLINE
from devices.caller_keypad import CallerKeypad
from devices.config import KeypadConfig, WindowScreenConfig
from devices.health import DeviceState
from devices.screens import WindowDisplay
from tests.devices.conftest import Hall, settle

pytestmark = pytest.mark.anyio

KEYPAD = {"id": "keypad-1", "model": "ff68-keypad", "link": "bus-1", "address": 1, "window": 1}
SCREEN = {
    "id": "screen-1",
    "model": "imm-window-screen",
    "link": "bus-1",
    "address": 1,
    "window": 1,
}


def keypad(hall: Hall) -> CallerKeypad:
    return CallerKeypad(KeypadConfig(**KEYPAD), hall.bus, hall.context)  # type: ignore[arg-type]


async def beep(device: CallerKeypad, hall: Hall, answered: bool) -> None:
    device.beep()
    device.command_done(hall.bus.sent[-1], answered)
    await settle()


async def test_a_device_is_online_once_it_answers(hall: Hall) -> None:
    device = keypad(hall)
    assert device.health().state is DeviceState.OFFLINE, "not yet heard"
    await beep(device, hall, answered=True)
    health = device.health()
    assert (health.state, health.reason) == (DeviceState.ONLINE, None)
    assert health.last_seen == hall.context.clock()
    assert device.health().counters.reconnects == 0


async def test_it_goes_offline_after_consecutive_misses_only(hall: Hall) -> None:
    device = keypad(hall)
    await beep(device, hall, answered=True)
    for _ in range(MISSES_TO_OFFLINE - 1):
        await beep(device, hall, answered=False)
    await beep(device, hall, answered=True)
    for _ in range(MISSES_TO_OFFLINE - 1):
        await beep(device, hall, answered=False)
    assert device.health().state is DeviceState.ONLINE, "misses are counted in a row"

    await beep(device, hall, answered=False)
    health = device.health()
    assert health.state is DeviceState.OFFLINE
    assert health.reason == f"no answer at address 1 ({MISSES_TO_OFFLINE} commands)"


async def test_a_bus_that_goes_down_takes_it_to_bus_offline_and_back(hall: Hall) -> None:
    device = keypad(hall)
    await beep(device, hall, answered=True)
    device.link_changed(False, "/dev/ttyUSB0: device disconnected")
    await settle()
    health = device.health()
    assert health.state is DeviceState.OFFLINE
    assert health.reason == "bus_offline: /dev/ttyUSB0: device disconnected"

    device.link_changed(True, None)
    await settle()
    assert device.health().state is DeviceState.OFFLINE, "back only once it answers"
    await beep(device, hall, answered=True)
    assert device.health().state is DeviceState.ONLINE


async def test_a_screen_cannot_answer_so_it_is_online_while_its_bus_is(hall: Hall) -> None:
    screen = WindowDisplay(WindowScreenConfig(**SCREEN), hall.bus, hall.context)  # type: ignore[arg-type]
    screen.link_changed(True, None)
    await settle()
    assert screen.health().state is DeviceState.ONLINE
    assert screen.health().details["answers"] is False
    screen.link_changed(False, "gone")
    await settle()
    assert screen.health().state is DeviceState.OFFLINE
