"""USB ticket printers behind a pyusb backend: the host's USB code runs unchanged.

`SimulatedUsbBackend` is a ``usb.backend.IBackend``; pass it where pyusb takes
a backend (``usb.core.find(backend=...)``, python-escpos
``Usb(..., usb_args={"backend": backend})``). Each `UsbPrinterLink` on it is
one printer: a device with one configuration and one printer-class
interface (class 7, subclass 1, protocol 2: bidirectional) with bulk OUT
endpoint 0x01 and bulk IN endpoint 0x82, 64-byte packets, as python-escpos
expects by default. As on most real printers the device descriptor's class
is 0 (defined per interface). String descriptors and the printer-class
GET_DEVICE_ID and GET_PORT_STATUS requests are answered on endpoint 0.

Errors are what the libusb 1.0 backend raises: ``USBTimeoutError`` (errno
ETIMEDOUT, backend code -7) when a read times out, ``USBError`` with errno
ENODEV (code -4) for any use of a device that was unplugged, EBUSY (code -6)
for claiming an interface another handle holds, EPIPE (code -9, a stall)
for a control request the device does not know.

Unplugging (``unplug`` on the printer, or `UsbPrinterLink.stop`) removes the
device from `enumerate_devices` and kills every handle open on it; plugging
back in (``ok``) makes a new device at a new address, which the host must
find and open again. Old handles stay dead.
"""

from __future__ import annotations

import array
import contextlib
import errno
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import usb.backend
from usb.core import USBError, USBTimeoutError

from simulators.escpos.link import PrinterLink
from simulators.escpos.printer import PAPER_OUT, SimulatedPrinter

__all__ = [
    "IN_ENDPOINT",
    "OUT_ENDPOINT",
    "PRODUCT_ID",
    "VENDOR_ID",
    "SimulatedUsbBackend",
    "UsbPrinterLink",
]

VENDOR_ID, PRODUCT_ID = 0x0416, 0x5011
OUT_ENDPOINT, IN_ENDPOINT = 0x01, 0x82
MAX_PACKET = 64
CONFIGURATION = 1
INTERFACE = 0
PRINTER_CLASS, PRINTER_SUBCLASS, BIDIRECTIONAL = 7, 1, 2
BULK = 2
LANGUAGE_EN_US = 0x0409
STRING_MANUFACTURER, STRING_PRODUCT, STRING_SERIAL = 1, 2, 3
SPEED_FULL = 2  # libusb_speed

# libusb error codes, as the libusb 1.0 backend puts them in USBError.backend_error_code.
LIBUSB_ERROR_NO_DEVICE = -4
LIBUSB_ERROR_BUSY = -6
LIBUSB_ERROR_TIMEOUT = -7
LIBUSB_ERROR_PIPE = -9

# Control requests (bmRequestType, bRequest).
GET_DESCRIPTOR = (0x80, 0x06)
GET_DEVICE_ID = (0xA1, 0x00)
GET_PORT_STATUS = (0xA1, 0x01)
DESCRIPTOR_STRING = 3
# GET_PORT_STATUS bits (USB printer class 1.1, section 4.2.2).
PORT_PAPER_EMPTY, PORT_SELECT, PORT_NOT_ERROR = 0x20, 0x10, 0x08


def _no_device() -> USBError:
    return USBError(
        "No such device (it may have been disconnected)", LIBUSB_ERROR_NO_DEVICE, errno.ENODEV
    )


def _stall() -> USBError:
    return USBError("Pipe error", LIBUSB_ERROR_PIPE, errno.EPIPE)


# --- descriptors: the fields pyusb reads ---------------------------------------------------


@dataclass(frozen=True)
class DeviceDescriptor:
    idVendor: int
    idProduct: int
    iSerialNumber: int
    bus: int
    address: int
    port_number: int
    bLength: int = 18
    bDescriptorType: int = 1
    bcdUSB: int = 0x0200
    bDeviceClass: int = 0
    bDeviceSubClass: int = 0
    bDeviceProtocol: int = 0
    bMaxPacketSize0: int = MAX_PACKET
    bcdDevice: int = 0x0100
    iManufacturer: int = STRING_MANUFACTURER
    iProduct: int = STRING_PRODUCT
    bNumConfigurations: int = 1
    speed: int = SPEED_FULL

    @property
    def port_numbers(self) -> tuple[int, ...]:
        return (self.port_number,)


@dataclass(frozen=True)
class ConfigurationDescriptor:
    bLength: int = 9
    bDescriptorType: int = 2
    wTotalLength: int = 9 + 9 + 7 + 7
    bNumInterfaces: int = 1
    bConfigurationValue: int = CONFIGURATION
    iConfiguration: int = 0
    bmAttributes: int = 0xC0  # self-powered
    bMaxPower: int = 1  # 2 mA from the bus
    extra_descriptors: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class InterfaceDescriptor:
    bLength: int = 9
    bDescriptorType: int = 4
    bInterfaceNumber: int = INTERFACE
    bAlternateSetting: int = 0
    bNumEndpoints: int = 2
    bInterfaceClass: int = PRINTER_CLASS
    bInterfaceSubClass: int = PRINTER_SUBCLASS
    bInterfaceProtocol: int = BIDIRECTIONAL
    iInterface: int = 0
    extra_descriptors: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class EndpointDescriptor:
    bEndpointAddress: int
    bLength: int = 7
    bDescriptorType: int = 5
    bmAttributes: int = BULK
    wMaxPacketSize: int = MAX_PACKET
    bInterval: int = 0
    bRefresh: int = 0
    bSynchAddress: int = 0
    extra_descriptors: list[int] = field(default_factory=list)


ENDPOINTS = (EndpointDescriptor(OUT_ENDPOINT), EndpointDescriptor(IN_ENDPOINT))


# --- devices and handles ----------------------------------------------------------------------


class _Device:
    """One printer between being plugged in and being unplugged: what the host enumerates."""

    def __init__(self, link: UsbPrinterLink, descriptor: DeviceDescriptor) -> None:
        self.link = link
        self.descriptor = descriptor
        self.configuration = CONFIGURATION  # the kernel configures a new device
        self.present = True
        self.claims: dict[int, _Handle] = {}
        self.answers = bytearray()
        self.changed = threading.Condition()

    def remove(self) -> None:
        with self.changed:
            self.present = False
            self.answers.clear()
            self.claims.clear()
            self.changed.notify_all()


@dataclass(eq=False)
class _Handle:
    device: _Device
    closed: bool = False


class SimulatedUsbBackend(usb.backend.IBackend):
    """A pyusb backend whose devices are simulated USB printers on one bus."""

    BUS = 1

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._links: list[UsbPrinterLink] = []
        # Linux gives a device the next free address each time it is plugged in.
        self._addresses = itertools.count(2)

    def add(
        self,
        printer: SimulatedPrinter,
        vendor: int = VENDOR_ID,
        product: int = PRODUCT_ID,
        serial: str | None = None,
    ) -> UsbPrinterLink:
        """A new link for ``printer`` on this backend (enumerable once started)."""
        return UsbPrinterLink(printer, self, vendor, product, serial)

    @property
    def links(self) -> tuple[UsbPrinterLink, ...]:
        with self._lock:
            return tuple(self._links)

    # --- for UsbPrinterLink -----------------------------------------------------------

    def _attach(self, link: UsbPrinterLink) -> int:
        """Put ``link`` on the bus; returns its port number."""
        with self._lock:
            if link not in self._links:
                self._links.append(link)
            return self._links.index(link) + 1

    def _next_address(self) -> int:
        with self._lock:
            return next(self._addresses)

    # --- IBackend: enumeration and descriptors ---------------------------------------

    def enumerate_devices(self) -> list[_Device]:
        return [device for link in self.links if (device := link.device) is not None]

    def get_parent(self, dev: _Device) -> None:
        return None

    def get_device_descriptor(self, dev: _Device) -> DeviceDescriptor:
        return dev.descriptor

    def get_configuration_descriptor(self, dev: _Device, config: int) -> ConfigurationDescriptor:
        if config != 0:
            raise IndexError(f"Invalid configuration index {config}")
        return ConfigurationDescriptor()

    def get_interface_descriptor(
        self, dev: _Device, intf: int, alt: int, config: int
    ) -> InterfaceDescriptor:
        if config != 0 or intf != 0 or alt != 0:
            raise IndexError(f"Invalid interface index {intf} (alternate setting {alt})")
        return InterfaceDescriptor()

    def get_endpoint_descriptor(
        self, dev: _Device, ep: int, intf: int, alt: int, config: int
    ) -> EndpointDescriptor:
        self.get_interface_descriptor(dev, intf, alt, config)
        if not 0 <= ep < len(ENDPOINTS):
            raise IndexError(f"Invalid endpoint index {ep}")
        return ENDPOINTS[ep]

    # --- IBackend: handles ------------------------------------------------------------

    def open_device(self, dev: _Device) -> _Handle:
        with dev.changed:
            if not dev.present:
                raise _no_device()
            return _Handle(dev)

    def close_device(self, dev_handle: _Handle) -> None:
        device = dev_handle.device
        with device.changed:
            dev_handle.closed = True
            for interface in [i for i, h in device.claims.items() if h is dev_handle]:
                del device.claims[interface]

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        with self._live(dev_handle) as device:
            if config_value not in (0, CONFIGURATION):
                raise USBError("Entity not found", -5, errno.ENOENT)
            device.configuration = config_value

    def get_configuration(self, dev_handle: _Handle) -> int:
        with self._live(dev_handle) as device:
            return device.configuration

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        with self._live(dev_handle):
            if (intf, altsetting) != (INTERFACE, 0):
                raise USBError("Entity not found", -5, errno.ENOENT)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        with self._live(dev_handle) as device:
            owner = device.claims.get(intf)
            if owner is not None and owner is not dev_handle:
                raise USBError("Resource busy", LIBUSB_ERROR_BUSY, errno.EBUSY)
            device.claims[intf] = dev_handle

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        with self._live(dev_handle) as device:
            if device.claims.get(intf) is dev_handle:
                del device.claims[intf]

    def reset_device(self, dev_handle: _Handle) -> None:
        with self._live(dev_handle) as device:
            device.answers.clear()

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        with self._live(dev_handle):
            pass

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        with self._live(dev_handle):
            return False

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        with self._live(dev_handle):
            pass

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        with self._live(dev_handle):
            pass

    # --- IBackend: transfers ----------------------------------------------------------

    def bulk_write(
        self, dev_handle: _Handle, ep: int, intf: int, data: array.array[int], timeout: int
    ) -> int:
        with self._live(dev_handle, intf) as device:
            if ep != OUT_ENDPOINT:
                raise _stall()
            answers = device.link.printer.receive(bytes(data))
            if not device.link.printer.plugged:
                raise _no_device()  # pulled out during this transfer
            if answers:
                device.answers += answers
                device.changed.notify_all()
            return len(data)

    def bulk_read(
        self, dev_handle: _Handle, ep: int, intf: int, buff: array.array[int], timeout: int
    ) -> int:
        """Wait up to ``timeout`` ms (0: for ever) for the printer's answers, as libusb does."""
        deadline = time.monotonic() + timeout / 1000 if timeout else None
        with self._live(dev_handle, intf) as device:
            if ep != IN_ENDPOINT:
                raise _stall()
            while not device.answers:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise USBTimeoutError(
                        "Operation timed out", LIBUSB_ERROR_TIMEOUT, errno.ETIMEDOUT
                    )
                device.changed.wait(left)
                _check_handle(dev_handle)
            size = min(len(buff), MAX_PACKET, len(device.answers))
            buff[:size] = array.array("B", device.answers[:size])
            del device.answers[:size]
            return size

    def ctrl_transfer(
        self,
        dev_handle: _Handle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array.array[int],
        timeout: int,
    ) -> int:
        with self._live(dev_handle) as device:
            reply = device.link.control_reply((bmRequestType, bRequest), wValue, wIndex)
            size = min(len(data), len(reply))
            data[:size] = array.array("B", reply[:size])
            return size

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    @contextlib.contextmanager
    def _live(dev_handle: _Handle, intf: int | None = None) -> Iterator[_Device]:
        """The handle's device, locked; ENODEV if it is gone, and with ``intf``,
        EBUSY if another handle claimed that interface."""
        device = dev_handle.device
        with device.changed:
            _check_handle(dev_handle)
            owner = device.claims.get(intf) if intf is not None else None
            if owner is not None and owner is not dev_handle:
                raise USBError("Resource busy", LIBUSB_ERROR_BUSY, errno.EBUSY)
            yield device


def _check_handle(dev_handle: _Handle) -> None:
    """ENODEV once the handle's device is gone; the caller holds its ``changed``."""
    if dev_handle.closed:
        raise USBError("Invalid parameter", -2, errno.EINVAL)
    if not dev_handle.device.present:
        raise _no_device()


# --- the link --------------------------------------------------------------------------------


class UsbPrinterLink(PrinterLink):
    """`printer` as a USB device on ``backend``, identified by ``vendor``:``product``
    and, if given, its ``serial`` number string."""

    link = "usb"

    def __init__(
        self,
        printer: SimulatedPrinter,
        backend: SimulatedUsbBackend,
        vendor: int = VENDOR_ID,
        product: int = PRODUCT_ID,
        serial: str | None = None,
        manufacturer: str = "hallkeeper",
        product_name: str = "ESC/POS ticket printer (simulated)",
    ) -> None:
        super().__init__(printer)
        self.backend = backend
        self.vendor = vendor
        self.product = product
        self.serial = serial
        self.manufacturer = manufacturer
        self.product_name = product_name
        self._lock = threading.Lock()
        self._started = False
        self._port = 0
        self._device: _Device | None = None
        self._counts = {"plugs": 0}

    @property
    def where(self) -> str:
        ids = f"{self.vendor:04x}:{self.product:04x}"
        return f"{ids} serial {self.serial}" if self.serial else ids

    @property
    def device(self) -> _Device | None:
        """The device the host can find now; None while unplugged or stopped."""
        return self._device

    @property
    def address(self) -> int | None:
        device = self._device
        return device.descriptor.address if device is not None else None

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "usb": {"bus": SimulatedUsbBackend.BUS, "address": self.address, **self._counts},
        }

    def start(self) -> None:
        """Plug into the backend's bus (if the printer is plugged in)."""
        with self._lock:
            if self._started:
                raise RuntimeError(f"link of printer {self.id!r} was already started")
            self._started = True
        self._port = self.backend._attach(self)
        self.printer.watch(self._follow_plug)
        self._follow_plug()

    def stop(self) -> None:
        """Take the device off the bus: it is gone, as if unplugged. Safe to repeat."""
        self.printer.unwatch(self._follow_plug)
        with self._lock:
            self._started = False
        self._follow_plug()

    def _follow_plug(self) -> None:
        with self._lock:
            present = self._started and self.printer.plugged
            if present and self._device is None:
                self._device = _Device(self, self._descriptor())
                self._counts["plugs"] += 1
            elif not present and self._device is not None:
                self._device.remove()
                self._device = None

    def _descriptor(self) -> DeviceDescriptor:
        return DeviceDescriptor(
            idVendor=self.vendor,
            idProduct=self.product,
            iSerialNumber=STRING_SERIAL if self.serial else 0,
            bus=SimulatedUsbBackend.BUS,
            address=self.backend._next_address(),
            port_number=self._port,
        )

    # --- endpoint 0 -------------------------------------------------------------------

    def control_reply(self, request: tuple[int, int], value: int, index: int) -> bytes:
        """The data stage of a control request; USBError (a stall) for one it does not know."""
        if request == GET_DESCRIPTOR and value >> 8 == DESCRIPTOR_STRING:
            return self._string(value & 0xFF)
        if request == GET_DEVICE_ID:
            device_id = (
                f"MFG:{self.manufacturer};CMD:ESC/POS;MDL:{self.printer.model};"
                f"CLS:PRINTER;DES:{self.product_name};"
            ).encode()
            return (len(device_id) + 2).to_bytes(2, "big") + device_id
        if request == GET_PORT_STATUS:
            online = self.printer.online
            status = PORT_SELECT | PORT_NOT_ERROR if online else 0
            return bytes([status | (PORT_PAPER_EMPTY if self.printer.paper == PAPER_OUT else 0)])
        raise _stall()

    def _string(self, index: int) -> bytes:
        if index == 0:
            text = LANGUAGE_EN_US.to_bytes(2, "little")
        else:
            strings = {
                STRING_MANUFACTURER: self.manufacturer,
                STRING_PRODUCT: self.product_name,
                STRING_SERIAL: self.serial,
            }
            string = strings.get(index)
            if not string:
                raise _stall()
            text = string.encode("utf-16-le")
        return bytes([len(text) + 2, DESCRIPTOR_STRING]) + text
