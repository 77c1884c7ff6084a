"""The serial printer on a pty, driven by python-escpos's `Serial`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial
from escpos.printer import Serial

from simulators.escpos import PrinterLink, SerialPrinterLink, SimulatedPrinter
from tests.simulators.escpos.conftest import PROFILE, TICKET_PRINTOUT, print_ticket, wait_for

TIMEOUT = 0.2


@pytest.fixture
def printer() -> SimulatedPrinter:
    return SimulatedPrinter("kiosk-3")


@pytest.fixture
def link(
    printer: SimulatedPrinter, tmp_path: Path, started: Callable[[PrinterLink], PrinterLink]
) -> SerialPrinterLink:
    link = started(SerialPrinterLink(printer, tmp_path / "kiosk-3"))
    assert isinstance(link, SerialPrinterLink)
    return link


@pytest.fixture
def open_serial(link: SerialPrinterLink) -> Iterator[Callable[[], Serial]]:
    """python-escpos `Serial` printers on the link's path, closed after the test."""
    opened: list[Serial] = []

    def open_() -> Serial:
        escpos = Serial(devfile=str(link.path), baudrate=19200, timeout=TIMEOUT, profile=PROFILE)
        escpos.open()
        opened.append(escpos)
        return escpos

    yield open_
    for escpos in opened:
        # Closing flushes (tcdrain), which fails on a pty that was unplugged.
        with contextlib.suppress(serial.SerialException):
            escpos.device.close()
        escpos.close()


def test_the_path_is_a_symlink_to_a_pty(link: SerialPrinterLink) -> None:
    assert link.path.is_symlink()
    assert os.readlink(link.path) == link.tty
    assert link.where == str(link.path)


def test_python_escpos_prints_a_ticket_and_reads_status(
    printer: SimulatedPrinter, open_serial: Callable[[], Serial]
) -> None:
    escpos = open_serial()
    print_ticket(escpos)
    assert escpos.query_status(b"\x10\x04\x04") == b"\x12"
    ticket = printer.last_ticket()
    assert ticket is not None and ticket.render() == TICKET_PRINTOUT


def test_cover_open_is_reported_over_serial(
    printer: SimulatedPrinter, open_serial: Callable[[], Serial]
) -> None:
    escpos = open_serial()
    printer.set_fault("cover-open")
    assert escpos.query_status(b"\x10\x04\x02") == b"\x16"
    assert escpos.is_online() is False


def test_a_printer_that_is_off_reads_as_plenty_of_paper_to_python_escpos(
    printer: SimulatedPrinter, open_serial: Callable[[], Serial]
) -> None:
    """The trap PROTOCOLS.md warns about: pyserial's read returns nothing at its timeout,
    and python-escpos's paper_status() turns nothing into 2, "plenty"."""
    escpos = open_serial()
    printer.set_fault("off")
    assert escpos.query_status(b"\x10\x04\x04") == b""
    assert escpos.paper_status() == 2
    assert escpos.is_online() is False
    assert printer.counters["status_requests"] == 0


def test_unplug_removes_the_port_and_ok_brings_a_new_one(
    link: SerialPrinterLink, printer: SimulatedPrinter, open_serial: Callable[[], Serial]
) -> None:
    escpos = open_serial()
    escpos.textln("A001")
    assert wait_for(lambda: printer.current.lines == ["A001"])
    printer.set_fault("unplug")
    assert wait_for(lambda: not link.path.exists())
    with pytest.raises(serial.SerialException):
        escpos.textln("A002")
    printer.set_fault("ok")
    assert wait_for(lambda: link.path.exists())
    again = open_serial()
    again.textln("A003")
    assert again.query_status(b"\x10\x04\x01") == b"\x12"
    assert printer.current.lines == ["A001", "A003"]


def test_stop_removes_the_symlink(printer: SimulatedPrinter, tmp_path: Path) -> None:
    link = SerialPrinterLink(printer, tmp_path / "kiosk-3")
    link.start()
    assert link.path.is_symlink()
    link.stop()
    assert not os.path.lexists(link.path)


def test_it_does_not_replace_a_file_that_is_not_a_symlink(
    printer: SimulatedPrinter, tmp_path: Path
) -> None:
    path = tmp_path / "kiosk-3"
    path.write_text("not a port")
    link = SerialPrinterLink(printer, path)
    with pytest.raises(FileExistsError):
        link.start()
    link.stop()
    assert path.read_text() == "not a port"
