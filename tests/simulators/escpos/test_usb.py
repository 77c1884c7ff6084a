"""USB printers on the simulated pyusb backend, driven by pyusb and python-escpos's `Usb`."""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import usb.core
import usb.util
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Usb

from simulators.escpos import PrinterLink, SimulatedPrinter, SimulatedUsbBackend, UsbPrinterLink
from tests.simulators.escpos.conftest import PROFILE, TICKET_PRINTOUT, print_ticket

VENDOR, PRODUCT = 0x0416, 0x5011


@pytest.fixture
def backend() -> SimulatedUsbBackend:
    return SimulatedUsbBackend()


@pytest.fixture
def printer() -> SimulatedPrinter:
    return SimulatedPrinter("kiosk-1")


@pytest.fixture
def link(
    backend: SimulatedUsbBackend,
    printer: SimulatedPrinter,
    started: Callable[[PrinterLink], PrinterLink],
) -> UsbPrinterLink:
    link = started(backend.add(printer, serial="K1"))
    assert isinstance(link, UsbPrinterLink)
    return link


@pytest.fixture
def open_usb(backend: SimulatedUsbBackend) -> Iterator[Callable[..., Usb]]:
    """python-escpos `Usb` printers on the backend, closed after the test."""
    opened: list[Usb] = []

    def open_(**usb_args: object) -> Usb:
        escpos = Usb(VENDOR, PRODUCT, usb_args={"backend": backend, **usb_args}, profile=PROFILE)
        opened.append(escpos)
        return escpos

    yield open_
    for escpos in opened:
        escpos.close()


def test_pyusb_finds_a_printer_class_device_with_its_strings(
    backend: SimulatedUsbBackend, link: UsbPrinterLink
) -> None:
    device = usb.core.find(backend=backend, idVendor=VENDOR, idProduct=PRODUCT)
    assert device is not None
    assert (device.manufacturer, device.product, device.serial_number) == (
        "hallkeeper",
        "ESC/POS ticket printer (simulated)",
        "K1",
    )
    [configuration] = device.configurations()
    interface = configuration[(0, 0)]
    assert (
        interface.bInterfaceClass,
        interface.bInterfaceSubClass,
        interface.bInterfaceProtocol,
    ) == (7, 1, 2)
    endpoints = {
        ep.bEndpointAddress: (usb.util.endpoint_type(ep.bmAttributes), ep.wMaxPacketSize)
        for ep in interface
    }
    assert endpoints == {
        0x01: (usb.util.ENDPOINT_TYPE_BULK, 64),
        0x82: (usb.util.ENDPOINT_TYPE_BULK, 64),
    }
    # Printers declare their class on the interface, not the device.
    assert device.bDeviceClass == 0
    assert usb.core.find(backend=backend, idVendor=VENDOR, idProduct=0x0001) is None


def test_python_escpos_prints_a_ticket_over_usb(
    link: UsbPrinterLink, printer: SimulatedPrinter, open_usb: Callable[..., Usb]
) -> None:
    escpos = open_usb()
    print_ticket(escpos)
    ticket = printer.last_ticket()
    assert ticket is not None and ticket.render() == TICKET_PRINTOUT
    assert escpos.is_online() is True


@pytest.mark.parametrize(
    ("fault", "paper_byte", "paper_status"),
    [("ok", 0x12, 2), ("paper-near", 0x1E, 1), ("paper-out", 0x7E, 0)],
)
def test_query_status_reads_the_simulated_paper_byte(
    link: UsbPrinterLink,
    printer: SimulatedPrinter,
    open_usb: Callable[..., Usb],
    fault: str,
    paper_byte: int,
    paper_status: int,
) -> None:
    escpos = open_usb()
    printer.set_fault(fault)
    # python-escpos returns pyusb's array, not bytes, from a USB read.
    assert bytes(escpos.query_status(b"\x10\x04\x04")) == bytes([paper_byte])
    assert escpos.paper_status() == paper_status


def test_unplug_kills_the_open_device_and_replug_is_a_new_one(
    backend: SimulatedUsbBackend,
    link: UsbPrinterLink,
    printer: SimulatedPrinter,
    open_usb: Callable[..., Usb],
) -> None:
    escpos = open_usb()
    escpos.textln("A001")
    address = link.address
    printer.set_fault("unplug")
    # python-escpos passes pyusb's error through, as libusb reports it.
    with pytest.raises(usb.core.USBError) as unplugged:
        escpos.textln("A002")
    assert (unplugged.value.errno, unplugged.value.backend_error_code) == (errno.ENODEV, -4)
    assert usb.core.find(backend=backend, idVendor=VENDOR) is None
    with pytest.raises(DeviceNotFoundError):
        open_usb().open()

    printer.set_fault("ok")
    with pytest.raises(usb.core.USBError) as still_dead:
        escpos.textln("A003")
    assert still_dead.value.errno == errno.ENODEV
    assert link.address is not None and link.address != address
    again = open_usb()
    again.textln("A004")
    again.cut()
    ticket = printer.last_ticket()
    assert ticket is not None and ticket.lines == ["A001", "A004"]


def test_a_read_with_no_answer_times_out_as_libusb_does(
    link: UsbPrinterLink, printer: SimulatedPrinter, open_usb: Callable[..., Usb]
) -> None:
    escpos = open_usb()
    escpos.device.default_timeout = 100
    printer.set_fault("off")
    started = time.monotonic()
    with pytest.raises(usb.core.USBTimeoutError) as timed_out:
        escpos.query_status(b"\x10\x04\x01")
    assert time.monotonic() - started >= 0.09
    assert (timed_out.value.errno, timed_out.value.backend_error_code) == (errno.ETIMEDOUT, -7)
    # A silent printer must never read as "paper ok": here it raises instead.
    with pytest.raises(usb.core.USBTimeoutError):
        escpos.paper_status()


def test_a_read_waiting_for_ever_ends_when_the_printer_is_unplugged(
    backend: SimulatedUsbBackend, link: UsbPrinterLink, printer: SimulatedPrinter
) -> None:
    device = usb.core.find(backend=backend, idVendor=VENDOR)
    assert device is not None
    device.set_configuration()
    failures: list[BaseException] = []

    def read() -> None:
        try:
            device.read(0x82, 16, timeout=0)
        except usb.core.USBError as error:
            failures.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.05)
    printer.set_fault("unplug")
    reader.join(2)
    assert not reader.is_alive()
    [error] = failures
    assert isinstance(error, usb.core.USBError) and error.errno == errno.ENODEV
    usb.util.dispose_resources(device)


def test_two_printers_on_one_backend_are_told_apart_by_serial_number(
    backend: SimulatedUsbBackend,
    link: UsbPrinterLink,
    printer: SimulatedPrinter,
    started: Callable[[PrinterLink], PrinterLink],
    open_usb: Callable[..., Usb],
) -> None:
    other = SimulatedPrinter("kiosk-2")
    started(backend.add(other, serial="K2"))
    assert len(list(usb.core.find(find_all=True, backend=backend, idVendor=VENDOR))) == 2
    open_usb(serial_number="K2").textln("B001")
    open_usb(serial_number="K1").textln("A001")
    assert (other.current.lines, printer.current.lines) == (["B001"], ["A001"])


def test_a_claimed_interface_is_busy_for_another_handle(
    backend: SimulatedUsbBackend, link: UsbPrinterLink
) -> None:
    first = usb.core.find(backend=backend, idVendor=VENDOR)
    second = usb.core.find(backend=backend, idVendor=VENDOR)
    assert first is not None and second is not None
    usb.util.claim_interface(first, 0)
    with pytest.raises(usb.core.USBError) as busy:
        usb.util.claim_interface(second, 0)
    assert busy.value.errno == errno.EBUSY
    usb.util.dispose_resources(first)
    usb.util.claim_interface(second, 0)
    usb.util.dispose_resources(second)


def test_printer_class_requests_on_endpoint_zero(
    backend: SimulatedUsbBackend, link: UsbPrinterLink, printer: SimulatedPrinter
) -> None:
    device = usb.core.find(backend=backend, idVendor=VENDOR)
    assert device is not None
    reply = bytes(device.ctrl_transfer(0xA1, 0, 0, 0, 1024))  # GET_DEVICE_ID
    assert int.from_bytes(reply[:2], "big") == len(reply)
    assert b"CMD:ESC/POS;" in reply and b"CLS:PRINTER;" in reply
    assert bytes(device.ctrl_transfer(0xA1, 1, 0, 0, 1)) == b"\x18"  # GET_PORT_STATUS: selected
    printer.set_fault("paper-out")
    assert bytes(device.ctrl_transfer(0xA1, 1, 0, 0, 1)) == b"\x20"  # paper empty, error
    with pytest.raises(usb.core.USBError) as stall:
        device.ctrl_transfer(0xC0, 0x42, 0, 0, 1)
    assert stall.value.errno == errno.EPIPE
    usb.util.dispose_resources(device)


def test_stopping_the_link_takes_the_printer_off_the_bus(
    backend: SimulatedUsbBackend, link: UsbPrinterLink
) -> None:
    device = usb.core.find(backend=backend, idVendor=VENDOR)
    assert device is not None
    link.stop()
    assert usb.core.find(backend=backend, idVendor=VENDOR) is None
    with pytest.raises(usb.core.USBError) as gone:
        device.set_configuration()
    assert gone.value.errno == errno.ENODEV
    usb.util.dispose_resources(device)


def test_a_transfer_cut_short_by_an_unplug_fails_as_libusb_reports_it(
    backend: SimulatedUsbBackend,
    link: UsbPrinterLink,
    printer: SimulatedPrinter,
    open_usb: Callable[..., Usb],
) -> None:
    escpos = open_usb()
    escpos.textln("A001")
    printer.unplug_after(3)
    with pytest.raises(usb.core.USBError) as unplugged:
        escpos.textln("A002 and more")
    assert unplugged.value.errno == errno.ENODEV
    assert usb.core.find(backend=backend, idVendor=VENDOR) is None
