"""A recording stand-in for the bus master, so a device's own logic (what it
sends, when, at what priority, and what it tells the hall) is tested alone.
End-to-end tests over a simulated bus are in tests/daemon/test_rs485_hall.py."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from devices.bus_device import DeviceContext
from devices.config import Texts
from devices.events import DeviceEvent
from drivers.bus import Command, Endpoint
from drivers.ff68.codec import Frame

UTC8 = dt.timezone(dt.timedelta(hours=8))


@dataclass
class RecordingBus:
    up: bool | None = True
    reopens: int = 0
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    sent: list[Command] = field(default_factory=list)
    acknowledged: list[tuple[str, Frame]] = field(default_factory=list)

    def attach(self, endpoint: Endpoint) -> None:
        self.endpoints[endpoint.device] = endpoint

    def acknowledge(self, device: str, frame: Frame) -> None:
        self.acknowledged.append((device, frame))

    def submit(self, command: Command) -> None:
        self.sent.append(command)

    def slot(self, slot: str) -> list[Command]:
        return [command for command in self.sent if command.slot == slot]


@dataclass
class Hall:
    bus: RecordingBus
    context: DeviceContext
    events: list[DeviceEvent]


@pytest.fixture
async def hall() -> AsyncIterator[Hall]:
    events: list[DeviceEvent] = []
    context = DeviceContext(
        loop=asyncio.get_running_loop(),
        clock=lambda: dt.datetime(2026, 11, 26, 9, 0, tzinfo=UTC8),
        emit=events.append,
        texts=Texts(),
        language="zh",
    )
    yield Hall(RecordingBus(), context, events)


async def settle() -> None:
    """Let callbacks the device scheduled on the loop run."""
    for _ in range(3):
        await asyncio.sleep(0)
