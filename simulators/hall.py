"""A whole simulated hall: a simulated bus behind every link, the device
simulators on them, the ticket printers, the fingerprint readers, and the control
endpoint that drives them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from drivers.imm.codec import Selector
from drivers.r30x.codec import DEFAULT_ADDRESS
from simulators.control import ControlServer
from simulators.escpos import (
    PrinterLink,
    SerialPrinterLink,
    SimulatedPrinter,
    SimulatedUsbBackend,
    TcpPrinterLink,
)
from simulators.escpos.usb import PRODUCT_ID, VENDOR_ID
from simulators.ports import can_listen
from simulators.r30x import DEFAULT_CAPACITY, SerialFingerprintLink, SimulatedFingerprintModule
from simulators.registry import SimRegistry
from simulators.rs485.bus import SimulatedBus
from simulators.rs485.devices import KeypadSim, PadSim, ScreenSim
from simulators.rs485.port import BusDevice
from simulators.zk import SimulatedTerminal, TerminalLink, User


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


@dataclass(frozen=True)
class PrinterSpec:
    """A ticket printer; ``serial`` is its USB serial number string (USB only)."""

    id: str
    link: Literal["usb", "tcp", "serial"]
    vendor: int = VENDOR_ID
    product: int = PRODUCT_ID
    serial: str | None = None


@dataclass(frozen=True)
class ReaderSpec:
    """An R30x fingerprint reader on a serial line of its own."""

    id: str
    address: int = DEFAULT_ADDRESS
    password: int = 0
    capacity: int = DEFAULT_CAPACITY


@dataclass(frozen=True)
class TerminalSpec:
    """A ZKTeco attendance terminal on TCP with its enrolled users (user id, name)."""

    id: str
    users: tuple[tuple[str, str], ...] = ()
    comm_key: int = 0


SIMULATORS: dict[str, Callable[[DeviceSpec], BusDevice]] = {
    "ff68-keypad": lambda spec: KeypadSim(spec.id, spec.address),
    "ff68-pad": lambda spec: PadSim(spec.id, spec.address, keys=spec.keys),
    "imm-window-screen": lambda spec: ScreenSim(spec.id, spec.address, Selector.WINDOW),
    "imm-hall-screen": lambda spec: ScreenSim(spec.id, spec.address, Selector.HALL),
}


class SimulatedHall:
    def __init__(
        self,
        links: Sequence[LinkSpec],
        folder: Path,
        control: str | None,
        *,
        printers: Sequence[PrinterSpec] = (),
        readers: Sequence[ReaderSpec] = (),
        terminals: Sequence[TerminalSpec] = (),
        ports: Mapping[str, int] | None = None,
    ) -> None:
        """Buses, serial printers and fingerprint readers appear as symlinks in `folder`;
        `control` is the control endpoint (None: no endpoint, for tests that drive the
        simulators directly).

        All USB printers share one pyusb backend, `usb_backend`; TCP printers and
        attendance terminals listen on loopback: on their port in `ports` (by id;
        an earlier run's `tcp_ports`) when it is free, so a daemon still pointed
        there finds them again, else on a free port chosen at `start`.
        """
        self._ports = {id_: port for id_, port in (ports or {}).items() if can_listen(port)}
        self.registry = SimRegistry()
        self.link_urls: dict[str, str] = {}
        folder.mkdir(parents=True, exist_ok=True)
        for link in links:
            bus = SimulatedBus(link.id, folder / link.id, link.baud)
            for spec in link.devices:
                bus.add(SIMULATORS[spec.model](spec))
            self.registry.add_bus(bus)
            self.link_urls[link.id] = str(folder / link.id)
        self.usb_backend = (
            SimulatedUsbBackend() if any(spec.link == "usb" for spec in printers) else None
        )
        for spec in printers:
            self.registry.add_printer(self._printer_link(spec, folder))
        #: Where the host finds each fingerprint reader: its pty symlink.
        self.reader_urls: dict[str, str] = {}
        for reader in readers:
            module = SimulatedFingerprintModule(
                reader.id, reader.address, reader.password, reader.capacity
            )
            self.registry.add_reader(SerialFingerprintLink(module, folder / reader.id))
            self.reader_urls[reader.id] = str(folder / reader.id)
        for spec in terminals:
            users = [User(uid, user_id, name) for uid, (user_id, name) in enumerate(spec.users, 1)]
            terminal = SimulatedTerminal(spec.id, users=users, comm_key=spec.comm_key)
            self.registry.add_terminal(TerminalLink(terminal, port=self._ports.get(spec.id, 0)))
        self.control = ControlServer(self.registry, control) if control is not None else None

    def _printer_link(self, spec: PrinterSpec, folder: Path) -> PrinterLink:
        printer = SimulatedPrinter(spec.id)
        if spec.link == "usb":
            assert self.usb_backend is not None
            return self.usb_backend.add(printer, spec.vendor, spec.product, spec.serial)
        if spec.link == "tcp":
            return TcpPrinterLink(printer, port=self._ports.get(spec.id, 0))
        if spec.link == "serial":
            return SerialPrinterLink(printer, folder / spec.id)
        raise ValueError(f"printer {spec.id!r}: unknown link {spec.link!r} (usb, tcp, serial)")

    def start(self) -> None:
        for bus in self.registry.buses:
            bus.start()
        for printer in self.registry.printers:
            printer.start()
        for reader in self.registry.readers:
            reader.start()
        for terminal in self.registry.terminals:
            terminal.start()
        if self.control is not None:
            self.control.start()

    def stop(self) -> None:
        if self.control is not None:
            self.control.stop()
        for terminal in self.registry.terminals:
            terminal.stop()
        for reader in self.registry.readers:
            reader.stop()
        for printer in self.registry.printers:
            printer.stop()
        for bus in self.registry.buses:
            bus.stop()

    @property
    def printer_urls(self) -> dict[str, str]:
        """Where the host finds each TCP printer (``tcp://127.0.0.1:PORT``, once started)
        and serial printer (its pty symlink); USB printers are on `usb_backend`."""
        urls: dict[str, str] = {}
        for link in self.registry.printers:
            if isinstance(link, TcpPrinterLink) and link.port:
                urls[link.id] = link.url
            elif isinstance(link, SerialPrinterLink):
                urls[link.id] = str(link.path)
        return urls

    @property
    def tcp_ports(self) -> dict[str, int]:
        """The loopback port of each TCP printer and terminal, by id (once started)."""
        tcp = [link for link in self.registry.printers if isinstance(link, TcpPrinterLink)]
        return {link.id: link.port for link in [*tcp, *self.registry.terminals] if link.port}

    @property
    def terminal_urls(self) -> dict[str, str]:
        """Where the host finds each attendance terminal (``tcp://127.0.0.1:PORT``,
        once started)."""
        return {link.id: link.url for link in self.registry.terminals if link.port}

    def terminal(self, terminal_id: str) -> SimulatedTerminal:
        for link in self.registry.terminals:
            if link.id == terminal_id:
                return link.terminal
        raise KeyError(terminal_id)

    def printer(self, printer_id: str) -> SimulatedPrinter:
        for link in self.registry.printers:
            if link.id == printer_id:
                return link.printer
        raise KeyError(printer_id)

    def reader(self, reader_id: str) -> SimulatedFingerprintModule:
        for link in self.registry.readers:
            if link.id == reader_id:
                return link.module
        raise KeyError(reader_id)

    def device(self, device_id: str) -> BusDevice:
        for device, _ in self.registry.devices():
            if device.id == device_id:
                return device
        raise KeyError(device_id)

    def bus(self, link_id: str) -> SimulatedBus:
        return next(bus for bus in self.registry.buses if bus.name == link_id)
