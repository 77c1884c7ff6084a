"""pyusb and python-escpos through `RemoteUsbBackend`, with the simulated USB bus
served by `UsbBackendServer`: the host sees what it sees on the in-process
backend (and on libusb), including its errors, and a bus whose process is gone
is a bus with nothing plugged in."""

from __future__ import annotations

import errno
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import usb.core
from escpos.printer import Usb

from drivers.escpos.links import PrinterLinkError, UsbLink
from drivers.escpos.status import PrinterStatus, Request, parse, request
from drivers.escpos.usb_remote import RemoteUsbBackend
from simulators.escpos import SimulatedPrinter, SimulatedUsbBackend, UsbPrinterLink
from simulators.escpos.usb_server import UsbBackendServer
from tests.simulators.escpos.conftest import PROFILE, TICKET_PRINTOUT, print_ticket
from tests.waiting import wait_for

VENDOR, PRODUCT = 0x0416, 0x5011


class Bus:
    """A simulated USB bus with printers, served on a socket."""

    def __init__(self, folder: Path) -> None:
        self.backend = SimulatedUsbBackend()
        self.server = UsbBackendServer(self.backend, folder / "usb.sock")
        self.links: list[UsbPrinterLink] = []

    def plug(self, printer: SimulatedPrinter, serial: str) -> UsbPrinterLink:
        link = self.backend.add(printer, VENDOR, PRODUCT, serial)
        link.start()
        self.links.append(link)
        return link

    def remote(self) -> RemoteUsbBackend:
        return RemoteUsbBackend(self.server.path)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[Bus]:
    served = Bus(tmp_path)
    served.server.start()
    yield served
    served.server.stop()
    for link in served.links:
        link.stop()


@pytest.fixture
def printer(bus: Bus) -> SimulatedPrinter:
    printer = SimulatedPrinter("kiosk-1")
    bus.plug(printer, "K1")
    return printer


def test_python_escpos_prints_a_ticket_through_the_socket(
    bus: Bus, printer: SimulatedPrinter
) -> None:
    escpos = Usb(VENDOR, PRODUCT, usb_args={"backend": bus.remote()}, profile=PROFILE)
    try:
        print_ticket(escpos)
    finally:
        escpos.close()
    ticket = wait_for(printer.last_ticket)
    assert ticket.render() == TICKET_PRINTOUT


def test_descriptors_and_strings_are_those_of_the_simulated_device(
    bus: Bus, printer: SimulatedPrinter
) -> None:
    bus.plug(SimulatedPrinter("kiosk-2"), "K2")
    found = list(usb.core.find(find_all=True, backend=bus.remote(), idVendor=VENDOR))
    assert sorted(d.serial_number for d in found) == ["K1", "K2"]
    device = found[0]
    assert (device.manufacturer, device.bus) == ("hallkeeper", SimulatedUsbBackend.BUS)
    interface = device.get_active_configuration()[(0, 0)]
    assert interface.bInterfaceClass == 7
    assert sorted(ep.bEndpointAddress for ep in interface) == [0x01, 0x82]


def test_the_printers_status_answer_comes_back(bus: Bus, printer: SimulatedPrinter) -> None:
    link = UsbLink(VENDOR, PRODUCT, "K1", backend=bus.remote())
    link.open()
    try:
        assert paper(link) == parse({Request.PAPER: 0x12})
        printer.set_fault("paper-out")
        assert paper(link).problems == ["paper out"]
        assert link.read(1, 0.05) == b""  # no more to read: a timeout, not an error
    finally:
        link.close()


def paper(link: UsbLink) -> PrinterStatus:
    """What the printer's paper sensor says (DLE EOT 4)."""
    link.write(request(Request.PAPER))
    answer = link.read(1, 2.0)
    assert len(answer) == 1
    return parse({Request.PAPER: answer[0]})


def test_errors_are_the_ones_libusb_gives(bus: Bus, printer: SimulatedPrinter) -> None:
    remote = bus.remote()
    device = usb.core.find(backend=remote, idVendor=VENDOR)
    assert device is not None
    with pytest.raises(usb.core.USBTimeoutError) as timed_out:
        device.read(0x82, 16, 50)
    assert (timed_out.value.errno, timed_out.value.backend_error_code) == (errno.ETIMEDOUT, -7)
    with pytest.raises(usb.core.USBError) as stall:
        device.ctrl_transfer(0xC0, 0x55, 0, 0, 8)  # a vendor request it does not know
    assert (stall.value.errno, stall.value.backend_error_code) == (errno.EPIPE, -9)
    printer.set_fault("unplug")
    with pytest.raises(usb.core.USBError) as unplugged:
        device.write(0x01, b"\x1b@")
    assert (unplugged.value.errno, unplugged.value.backend_error_code) == (errno.ENODEV, -4)
    assert usb.core.find(backend=remote, idVendor=VENDOR) is None


CLAIMING_HOST = """
import sys, time
from pathlib import Path
import usb.core
from drivers.escpos.usb_remote import RemoteUsbBackend
device = usb.core.find(backend=RemoteUsbBackend(Path(sys.argv[1])), idVendor=0x0416)
device.write(0x01, b"\\x1b@")  # claims interface 0
print("claimed", flush=True)
time.sleep(60)
"""


def test_an_interface_claimed_by_a_host_is_busy_until_that_host_is_killed(
    bus: Bus, printer: SimulatedPrinter
) -> None:
    host = subprocess.Popen(
        [sys.executable, "-c", CLAIMING_HOST, str(bus.server.path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert host.stdout is not None and host.stdout.readline() == "claimed\n"
        device = usb.core.find(backend=bus.remote(), idVendor=VENDOR)
        assert device is not None
        with pytest.raises(usb.core.USBError) as busy:
            device.write(0x01, b"\x1b@")
        assert busy.value.errno == errno.EBUSY
    finally:
        host.kill()
        host.wait()
    wait_for(lambda: _writes(device), what="the interface freed when its holder was killed")


def _writes(device: usb.core.Device) -> bool:
    try:
        device.write(0x01, b"\x1b@")
    except usb.core.USBError as error:
        assert error.errno == errno.EBUSY
        return False
    return True


def test_a_bus_whose_server_is_gone_has_nothing_plugged_in(
    bus: Bus, printer: SimulatedPrinter
) -> None:
    link = UsbLink(VENDOR, PRODUCT, "K1", backend=bus.remote())
    link.open()
    bus.server.stop()
    with pytest.raises(PrinterLinkError, match="No such device"):
        link.write(b"\x1b@")
    with pytest.raises(PrinterLinkError, match="not found"):
        link.open()
    bus.server.start()  # the simulators are back: the printer is found again
    link.open()
    assert paper(link).can_print
    link.close()
