"""Links to ESC/POS printers, on python-escpos's own printer classes (Usb,
Network, Serial), for whole-ticket writes and status reads with deadlines.

What python-escpos leaves to us:
- its `_read` has no deadline of its own choosing (pyusb's default timeout,
  the socket's timeout set at open, the serial timeout), so reads here set one;
- after a USB device is unplugged the pyusb device object stays dead (ENODEV)
  and python-escpos does not reopen it: `open()` here builds a new one;
- any failure of the port is raised as `PrinterLinkError`, whatever library
  it came from, so the device above can tell "no link" from "no answer".
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from typing import Any

import serial
import usb.core
from escpos.exceptions import Error as EscposError
from escpos.printer import Network, Serial, Usb

__all__ = ["NetworkLink", "PrinterLink", "PrinterLinkError", "SerialPrinterLink", "UsbLink"]

READ_CHUNK = 16


class PrinterLinkError(Exception):
    """The printer cannot be reached: not found, unplugged, connection lost."""


class PrinterLink:
    """One printer's connection; used from one thread."""

    where: str

    def __init__(self) -> None:
        self._printer: Any = None

    @property
    def is_open(self) -> bool:
        return self._printer is not None

    def open(self) -> None:
        self.close()
        try:
            printer = self._build()
            printer.open()
        # ValueError: pyusb's NoBackendError (no libusb on this machine), bad serial settings
        except (EscposError, OSError, ValueError, usb.core.USBError, serial.SerialException) as exc:
            raise PrinterLinkError(f"cannot open the printer at {self.where}: {exc}") from exc
        self._printer = printer
        self._opened(printer)

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            with contextlib.suppress(Exception):  # a vanished device may fail to close
                printer.close()

    def write(self, data: bytes) -> None:
        printer = self._require()
        try:
            printer._raw(data)
        except (EscposError, OSError, usb.core.USBError, serial.SerialException) as exc:
            self.close()
            raise PrinterLinkError(f"{self.where}: {exc}") from exc

    def read(self, count: int, timeout: float) -> bytes:
        """Up to `count` bytes arriving within `timeout` seconds; fewer if the
        printer says less (b"" for no answer at all)."""
        printer = self._require()
        deadline = time.monotonic() + timeout
        data = b""
        try:
            while len(data) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                data += self._read(printer, count - len(data), left)
        except (EscposError, OSError, usb.core.USBError, serial.SerialException) as exc:
            self.close()
            raise PrinterLinkError(f"{self.where}: {exc}") from exc
        return data

    def _require(self) -> Any:
        if self._printer is None:
            raise PrinterLinkError(f"the printer at {self.where} is not open")
        return self._printer

    # -- per link kind -------------------------------------------------------------

    def _build(self) -> Any:
        raise NotImplementedError

    def _opened(self, printer: Any) -> None:
        """Called after a successful open."""

    def _read(self, printer: Any, count: int, timeout: float) -> bytes:
        """Up to `count` bytes, returning as soon as any arrive or at `timeout`."""
        raise NotImplementedError


class UsbLink(PrinterLink):
    def __init__(
        self,
        vendor: int,
        product: int,
        serial_number: str | None = None,
        in_ep: int = 0x82,
        out_ep: int = 0x01,
        backend: Any = None,
    ) -> None:
        """`backend` is a pyusb backend; None lets pyusb pick libusb."""
        super().__init__()
        self.where = f"usb {vendor:04x}:{product:04x}" + (
            f" serial {serial_number}" if serial_number else ""
        )
        self._args: dict[str, Any] = {}
        if serial_number is not None:
            self._args["serial_number"] = serial_number
        if backend is not None:
            self._args["backend"] = backend
        self._ids = (vendor, product)
        self._endpoints = (in_ep, out_ep)

    def _build(self) -> Usb:
        vendor, product = self._ids
        in_ep, out_ep = self._endpoints
        # write timeout in ms: a printer that stops taking data is a failure, not a hang
        return Usb(
            vendor, product, usb_args=dict(self._args), timeout=5000, in_ep=in_ep, out_ep=out_ep
        )

    def _opened(self, printer: Usb) -> None:
        if printer.device is None:  # python-escpos logs instead of raising in some paths
            raise PrinterLinkError(f"the printer at {self.where} was not found")

    def _read(self, printer: Usb, count: int, timeout: float) -> bytes:
        try:
            data = printer.device.read(printer.in_ep, READ_CHUNK, max(1, int(timeout * 1000)))
        except usb.core.USBTimeoutError:
            return b""
        return bytes(data)


class NetworkLink(PrinterLink):
    """A printer on TCP (port 9100). It may accept and swallow bytes while it
    cannot print: status reads before and after each ticket tell."""

    def __init__(self, host: str, port: int = 9100, connect_timeout: float = 3.0) -> None:
        super().__init__()
        self.where = f"tcp {host}:{port}"
        self._address = (host, port)
        self._timeout = connect_timeout

    def _build(self) -> Network:
        host, port = self._address
        return Network(host, port, timeout=self._timeout)

    def _read(self, printer: Network, count: int, timeout: float) -> bytes:
        sock: socket.socket = printer.device
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return b""
        data = sock.recv(count)
        if not data:
            raise PrinterLinkError(f"{self.where}: the printer closed the connection")
        return data


class SerialPrinterLink(PrinterLink):
    def __init__(self, device: str, baudrate: int = 19200) -> None:
        super().__init__()
        self.where = f"serial {device}"
        self._device = device
        self._baudrate = baudrate

    def _build(self) -> Serial:
        return Serial(devfile=self._device, baudrate=self._baudrate, timeout=0.1)

    def _opened(self, printer: Serial) -> None:
        if printer.device is None:
            raise PrinterLinkError(f"cannot open the printer at {self.where}")

    def _read(self, printer: Serial, count: int, timeout: float) -> bytes:
        port: serial.Serial = printer.device
        port.timeout = timeout
        # pyserial's read(n) waits for all n bytes or the timeout: ask for no more than due
        return bytes(port.read(count))
