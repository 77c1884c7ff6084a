"""Simulated ESC/POS ticket printers: a parser and printer model without I/O, and
USB (a pyusb backend), TCP 9100 and serial (pty) links in front of them."""

from simulators.escpos.link import PrinterLink
from simulators.escpos.parser import (
    Cut,
    Feed,
    Image,
    Item,
    Parser,
    Qr,
    StatusRequest,
    Text,
    Unknown,
)
from simulators.escpos.printer import FAULTS, SimulatedPrinter, Ticket
from simulators.escpos.serial import SerialPrinterLink
from simulators.escpos.tcp import TcpPrinterLink
from simulators.escpos.usb import SimulatedUsbBackend, UsbPrinterLink

__all__ = [
    "FAULTS",
    "Cut",
    "Feed",
    "Image",
    "Item",
    "Parser",
    "PrinterLink",
    "Qr",
    "SerialPrinterLink",
    "SimulatedPrinter",
    "SimulatedUsbBackend",
    "StatusRequest",
    "TcpPrinterLink",
    "Text",
    "Ticket",
    "Unknown",
    "UsbPrinterLink",
]
