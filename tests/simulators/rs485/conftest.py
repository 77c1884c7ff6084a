"""The host's side of a simulated bus: pyserial on the bus path and the codecs, as the
daemon has it; and buses that are stopped after each test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from drivers.codec import FrameError
from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from simulators.rs485 import BusDevice, SimulatedBus

BAUD = 9600
BYTE_TIME = 10 / BAUD


def wait_for(condition: Callable[[], object], timeout: float = 3.0) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return bool(condition())


class Host:
    """The daemon's end of the bus: writes frames, reads and decodes what devices send."""

    def __init__(self, path: Path) -> None:
        self.port = serial.Serial(str(path), BAUD, timeout=0.01)
        self.decoder = ff68.Decoder(from_device=True)
        self.raw = bytearray()
        self.items: list[ff68.Frame | FrameError] = []

    def write(self, message: bytes | ff68.Frame | imm.ScreenText) -> float:
        """Write a frame; returns the monotonic time just before the write."""
        if isinstance(message, ff68.Frame):
            data = ff68.encode(message)
        elif isinstance(message, imm.ScreenText):
            data = imm.encode(message)
        else:
            data = message
        at = time.monotonic()
        self.port.write(data)
        return at

    def pump(self) -> bytes:
        data = self.port.read(512)
        if data:
            self.raw += data
            self.items += self.decoder.feed(data)
        return data

    def read_until(self, condition: Callable[[], object], timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if condition():
                return True
        return bool(condition())

    def listen(self, seconds: float) -> None:
        """Read whatever arrives for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump()

    def frames(self) -> list[ff68.Frame]:
        return [item for item in self.items if isinstance(item, ff68.Frame)]

    def errors(self) -> list[FrameError]:
        return [item for item in self.items if isinstance(item, FrameError)]

    def expect_frames(self, count: int, timeout: float = 3.0) -> list[ff68.Frame]:
        assert self.read_until(lambda: len(self.frames()) >= count, timeout), (
            f"expected {count} frames, got {self.items} (raw {self.raw.hex(' ')})"
        )
        return self.frames()

    def expect_bytes(self, count: int, timeout: float = 3.0) -> bytes:
        assert self.read_until(lambda: len(self.raw) >= count, timeout), (
            f"expected {count} bytes, got {self.raw.hex(' ')}"
        )
        return bytes(self.raw)

    def clear(self) -> None:
        self.raw.clear()
        self.items.clear()

    def close(self) -> None:
        self.port.close()


@pytest.fixture
def make_bus(tmp_path: Path) -> Iterator[Callable[..., SimulatedBus]]:
    """Start a bus with the given devices at ``tmp_path/NAME.tty``; stopped after the test."""
    buses: list[SimulatedBus] = []

    def make(*devices: BusDevice, name: str = "bus-1") -> SimulatedBus:
        bus = SimulatedBus(name, tmp_path / f"{name}.tty", BAUD)
        for device in devices:
            bus.add(device)
        buses.append(bus)
        bus.start()
        return bus

    yield make
    for bus in buses:
        bus.stop()


@pytest.fixture
def open_host() -> Iterator[Callable[[SimulatedBus], Host]]:
    """Open the host's port on a bus's path; closed after the test."""
    hosts: list[Host] = []

    def open_(bus: SimulatedBus) -> Host:
        host = Host(bus.path)
        hosts.append(host)
        return host

    yield open_
    for host in hosts:
        host.close()
