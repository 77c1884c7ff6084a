"""A whole simulated hall: a simulated bus behind every link, the device
simulators on them, and the control endpoint that drives them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from drivers.imm.codec import Selector
from simulators.control import ControlServer
from simulators.registry import SimRegistry
from simulators.rs485.bus import SimulatedBus
from simulators.rs485.devices import KeypadSim, PadSim, ScreenSim
from simulators.rs485.port import BusDevice


@dataclass(frozen=True)
class DeviceSpec:
    id: str
    model: str
    address: int
    keys: int = 4  # evaluation pads


@dataclass(frozen=True)
class LinkSpec:
    id: str
    baud: int
    devices: tuple[DeviceSpec, ...]


SIMULATORS: dict[str, Callable[[DeviceSpec], BusDevice]] = {
    "ff68-keypad": lambda spec: KeypadSim(spec.id, spec.address),
    "ff68-pad": lambda spec: PadSim(spec.id, spec.address, keys=spec.keys),
    "imm-window-screen": lambda spec: ScreenSim(spec.id, spec.address, Selector.WINDOW),
    "imm-hall-screen": lambda spec: ScreenSim(spec.id, spec.address, Selector.HALL),
}


class SimulatedHall:
    def __init__(self, links: Sequence[LinkSpec], folder: Path, control: str | None) -> None:
        """Buses appear as symlinks in `folder`; `control` is the control endpoint
        (None: no endpoint, for tests that drive the simulators directly)."""
        self.registry = SimRegistry()
        self.link_urls: dict[str, str] = {}
        folder.mkdir(parents=True, exist_ok=True)
        for link in links:
            bus = SimulatedBus(link.id, folder / link.id, link.baud)
            for spec in link.devices:
                bus.add(SIMULATORS[spec.model](spec))
            self.registry.add_bus(bus)
            self.link_urls[link.id] = str(folder / link.id)
        self.control = ControlServer(self.registry, control) if control is not None else None

    def start(self) -> None:
        for bus in self.registry.buses:
            bus.start()
        if self.control is not None:
            self.control.start()

    def stop(self) -> None:
        if self.control is not None:
            self.control.stop()
        for bus in self.registry.buses:
            bus.stop()

    def device(self, device_id: str) -> BusDevice:
        for device, _ in self.registry.devices():
            if device.id == device_id:
                return device
        raise KeyError(device_id)

    def bus(self, link_id: str) -> SimulatedBus:
        return next(bus for bus in self.registry.buses if bus.name == link_id)
