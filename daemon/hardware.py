"""The hall's devices, built from its config: one bus master per link, one
device object per entry, and the map from windows to their devices."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from typing import TypeVar

from daemon.config.model import HallConfig
from devices.bus_device import BusDevice, DeviceContext
from devices.caller_keypad import CallerKeypad
from devices.evaluation_pad import EvaluationPad
from devices.health import DeviceHealth
from devices.models import DEVICE_MODELS
from devices.screens import HallDisplay, WindowDisplay
from drivers.bus import BusMaster
from drivers.links.serial_link import SerialLink

D = TypeVar("D", bound=BusDevice)


class Hardware:
    def __init__(
        self,
        config: HallConfig,
        context: DeviceContext,
        link_urls: Mapping[str, str] | None = None,
    ) -> None:
        """`link_urls` replaces configured link URLs, for simulated buses."""
        urls = {link.id: link.url for link in config.links} | dict(link_urls or {})
        self.buses = {
            link.id: BusMaster(link.id, SerialLink(urls[link.id], link.baud))
            for link in config.links
        }
        self.devices: list[BusDevice] = []
        for entry in config.devices:
            model = DEVICE_MODELS[entry.model]
            device_config = model.config_type.model_validate(entry.model_dump())
            bus = self.buses[device_config.link]
            self.devices.append(model.device_type(device_config, bus, context))
        self.window_displays = self._by_window(WindowDisplay)
        self.keypads = self._by_window(CallerKeypad)
        self.pads = self._by_window(EvaluationPad)
        self.hall_displays = [d for d in self.devices if isinstance(d, HallDisplay)]

    def _by_window(self, kind: type[D]) -> dict[int, list[D]]:
        found: dict[int, list[D]] = defaultdict(list)
        for device in self.devices:
            if isinstance(device, kind):
                found[device.config.window].append(device)  # type: ignore[attr-defined]
        return found

    def start(self) -> None:
        for bus in self.buses.values():
            bus.start()

    async def stop(self) -> None:
        """Stop every bus; each finishes the frame it is writing."""
        await asyncio.gather(*(asyncio.to_thread(bus.stop) for bus in self.buses.values()))

    def health(self) -> list[DeviceHealth]:
        return [device.health() for device in self.devices]
