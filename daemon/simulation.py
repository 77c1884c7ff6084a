"""What the simulators need to know of a hall config: its links and the
devices on them (the simulators themselves read no config)."""

from __future__ import annotations

from daemon.config.model import HallConfig
from devices.config import PadConfig
from devices.models import DEVICE_MODELS
from simulators.hall import SIMULATORS, DeviceSpec, LinkSpec


class NoSimulator(Exception):
    pass


def link_specs(config: HallConfig) -> list[LinkSpec]:
    specs = []
    for link in config.links:
        devices = []
        for entry in config.devices:
            device = DEVICE_MODELS[entry.model].config_type.model_validate(entry.model_dump())
            if device.link != link.id:
                continue
            if entry.model not in SIMULATORS:
                raise NoSimulator(f"there is no simulator for {entry.model} (device {entry.id})")
            keys = device.keys if isinstance(device, PadConfig) else 4
            devices.append(DeviceSpec(device.id, entry.model, device.address, keys))
        specs.append(LinkSpec(link.id, link.baud, tuple(devices)))
    return specs
