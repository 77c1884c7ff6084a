"""What the simulators need to know of a hall config: its links and the
devices on them (the simulators themselves read no config)."""

from __future__ import annotations

from pathlib import Path

from daemon.config.model import HallConfig, entries_of, printers
from daemon.hardware import Overrides
from devices.attendance_config import ReaderConfig, TerminalConfig
from devices.config import BusDeviceConfig, PadConfig
from devices.models import DEVICE_MODELS
from simulators.hall import (
    SIMULATORS,
    DeviceSpec,
    LinkSpec,
    PrinterSpec,
    ReaderSpec,
    SimulatedHall,
    TerminalSpec,
)


class NoSimulator(Exception):
    pass


def link_specs(config: HallConfig) -> list[LinkSpec]:
    specs = []
    for link in config.links:
        devices = []
        for entry in config.devices:
            device = DEVICE_MODELS[entry.model].config_type.model_validate(entry.model_dump())
            if not isinstance(device, BusDeviceConfig) or device.link != link.id:
                continue
            if entry.model not in SIMULATORS:
                raise NoSimulator(f"there is no simulator for {entry.model} (device {entry.id})")
            keys = device.keys if isinstance(device, PadConfig) else 4
            devices.append(DeviceSpec(device.id, entry.model, device.address, keys))
        specs.append(LinkSpec(link.id, link.baud, tuple(devices)))
    return specs


def printer_specs(config: HallConfig) -> list[PrinterSpec]:
    """A simulated printer for each configured one, on the same kind of link."""
    specs = []
    for printer in printers(config):
        if printer.usb is not None:
            usb = printer.usb
            specs.append(PrinterSpec(printer.id, "usb", usb.vendor, usb.product, usb.serial))
        else:
            specs.append(PrinterSpec(printer.id, "tcp" if printer.tcp else "serial"))
    return specs


def reader_specs(config: HallConfig) -> list[ReaderSpec]:
    return [
        ReaderSpec(reader.id, reader.address, reader.password, reader.capacity)
        for reader in entries_of(config, ReaderConfig)
    ]


def terminal_specs(config: HallConfig) -> list[TerminalSpec]:
    """Each terminal with the staff who have a terminal user id enrolled on it."""
    users = tuple((m.terminal_user, m.name) for m in config.staff if m.terminal_user)
    return [
        TerminalSpec(terminal.id, users, terminal.comm_key)
        for terminal in entries_of(config, TerminalConfig)
    ]


def sim_folder(config: HallConfig) -> Path:
    """Where a simulated hall keeps its ptys, sockets and the sound its speakers
    make (`run --simulate`, and `simulate` unless told otherwise)."""
    return config.storage.path.parent / "sim"


def overrides(simulated: SimulatedHall, folder: Path | None = None) -> Overrides:
    """Where the daemon finds the simulators instead of the configured
    hardware; with `folder`, speakers play into WAV files under it."""
    urls = {
        **simulated.link_urls,
        **simulated.printer_urls,
        **simulated.reader_urls,
        **simulated.terminal_urls,
    }
    speakers = folder / "speakers" if folder is not None else None
    return Overrides(urls, simulated.usb_backend, speakers)
