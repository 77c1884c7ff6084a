"""A pyusb backend whose USB bus is in another process, over a Unix socket.

`hallkeeper simulate` runs simulated USB printers in a process of its own; the
daemon reaches them through `RemoteUsbBackend`, a ``usb.backend.IBackend``
that forwards every backend call (enumeration, descriptors, open and close,
claim and release, bulk and control transfers, kernel driver calls) to the
process serving the bus (`simulators.escpos.usb_server`). python-escpos and
pyusb above it run unchanged, as with libusb.

The wire is `drivers.escpos.usb_wire`.

Errors are what the libusb 1.0 backend raises, so the host cannot tell the
difference: the server's ``USBError`` and ``USBTimeoutError`` come back as
such, with errno and libusb code. When the serving process is gone (not
started, killed), the bus is empty (`enumerate_devices` finds nothing) and
any use of a device found before raises ``USBError`` ENODEV, as for a printer
pulled out of its port.
"""

from __future__ import annotations

import array
import contextlib
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import usb.backend
from usb.core import USBError

from drivers.escpos.usb_wire import decode_answer, encode, no_device

__all__ = ["RemoteUsbBackend"]

#: Seconds added to a transfer's own timeout before the socket gives up.
MARGIN_SECONDS = 5.0
#: How long a call waits whose transfer waits for ever (timeout 0).
FOREVER_SECONDS = 3600.0


@dataclass(frozen=True)
class RemoteDevice:
    """A device as the serving process numbered it."""

    number: int


@dataclass(frozen=True)
class RemoteHandle:
    number: int


class RemoteUsbBackend(usb.backend.IBackend):
    """The USB bus served at the Unix socket `path`; one connection per thread,
    so a printer waiting for an answer never holds up another printer."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._local = threading.local()

    def __repr__(self) -> str:  # python-escpos puts it in its "not found" messages
        return f"the simulated USB bus at {self.path}"

    # --- the connection ---------------------------------------------------------------

    def _call(self, name: str, *args: Any, timeout_ms: int | None = None) -> Any:
        """The server's answer to one call; ENODEV if the server cannot be reached."""
        wait = FOREVER_SECONDS if timeout_ms == 0 else (timeout_ms or 0) / 1000 + MARGIN_SECONDS
        try:
            stream = self._stream()
            stream.settimeout(wait)
            stream.sendall(encode({"call": name, "args": list(args)}))
            line = self._reader().readline()
        except OSError:
            self._drop()
            raise no_device() from None
        if not line.endswith(b"\n"):  # the serving process went away mid-call
            self._drop()
            raise no_device()
        return decode_answer(line)

    def _stream(self) -> socket.socket:
        stream: socket.socket | None = getattr(self._local, "stream", None)
        if stream is None:
            stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                stream.connect(str(self.path))
            except OSError:
                stream.close()
                raise
            self._local.stream = stream
            self._local.reader = stream.makefile("rb")
        return stream

    def _reader(self) -> Any:
        return self._local.reader

    def _drop(self) -> None:
        stream = getattr(self._local, "stream", None)
        if stream is not None:
            self._local.reader.close()
            stream.close()
        self._local.stream = self._local.reader = None

    # --- enumeration and descriptors --------------------------------------------------

    def enumerate_devices(self) -> list[RemoteDevice]:
        try:
            numbers = self._call("enumerate_devices")
        except USBError:
            return []  # no serving process: nothing is plugged in
        return [RemoteDevice(number) for number in numbers]

    def get_parent(self, dev: RemoteDevice) -> None:
        return None

    def get_device_descriptor(self, dev: RemoteDevice) -> SimpleNamespace:
        fields = self._call("get_device_descriptor", dev.number)
        fields["port_numbers"] = tuple(fields.get("port_numbers") or ())
        return SimpleNamespace(**fields)

    def get_configuration_descriptor(self, dev: RemoteDevice, config: int) -> SimpleNamespace:
        return SimpleNamespace(**self._call("get_configuration_descriptor", dev.number, config))

    def get_interface_descriptor(
        self, dev: RemoteDevice, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        fields = self._call("get_interface_descriptor", dev.number, intf, alt, config)
        return SimpleNamespace(**fields)

    def get_endpoint_descriptor(
        self, dev: RemoteDevice, ep: int, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        fields = self._call("get_endpoint_descriptor", dev.number, ep, intf, alt, config)
        return SimpleNamespace(**fields)

    # --- handles ------------------------------------------------------------------------

    def open_device(self, dev: RemoteDevice) -> RemoteHandle:
        return RemoteHandle(self._call("open_device", dev.number))

    def close_device(self, dev_handle: RemoteHandle) -> None:
        """As libusb_close, it never fails: a handle of a vanished device is just gone."""
        with contextlib.suppress(USBError):
            self._call("close_device", dev_handle.number)

    def set_configuration(self, dev_handle: RemoteHandle, config_value: int) -> None:
        self._call("set_configuration", dev_handle.number, config_value)

    def get_configuration(self, dev_handle: RemoteHandle) -> int:
        return int(self._call("get_configuration", dev_handle.number))

    def set_interface_altsetting(
        self, dev_handle: RemoteHandle, intf: int, altsetting: int
    ) -> None:
        self._call("set_interface_altsetting", dev_handle.number, intf, altsetting)

    def claim_interface(self, dev_handle: RemoteHandle, intf: int) -> None:
        self._call("claim_interface", dev_handle.number, intf)

    def release_interface(self, dev_handle: RemoteHandle, intf: int) -> None:
        self._call("release_interface", dev_handle.number, intf)

    def clear_halt(self, dev_handle: RemoteHandle, ep: int) -> None:
        self._call("clear_halt", dev_handle.number, ep)

    def reset_device(self, dev_handle: RemoteHandle) -> None:
        self._call("reset_device", dev_handle.number)

    def is_kernel_driver_active(self, dev_handle: RemoteHandle, intf: int) -> bool:
        return bool(self._call("is_kernel_driver_active", dev_handle.number, intf))

    def detach_kernel_driver(self, dev_handle: RemoteHandle, intf: int) -> None:
        self._call("detach_kernel_driver", dev_handle.number, intf)

    def attach_kernel_driver(self, dev_handle: RemoteHandle, intf: int) -> None:
        self._call("attach_kernel_driver", dev_handle.number, intf)

    # --- transfers ----------------------------------------------------------------------

    def bulk_write(
        self, dev_handle: RemoteHandle, ep: int, intf: int, data: array.array[int], timeout: int
    ) -> int:
        args = (dev_handle.number, ep, intf, bytes(data).hex(), timeout)
        return int(self._call("bulk_write", *args, timeout_ms=timeout))

    def bulk_read(
        self, dev_handle: RemoteHandle, ep: int, intf: int, buff: array.array[int], timeout: int
    ) -> int:
        size = len(buff) * buff.itemsize
        got = self._call(
            "bulk_read", dev_handle.number, ep, intf, size, timeout, timeout_ms=timeout
        )
        return _fill(buff, bytes.fromhex(got))

    def ctrl_transfer(
        self,
        dev_handle: RemoteHandle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array.array[int],
        timeout: int,
    ) -> int:
        args = (dev_handle.number, bmRequestType, bRequest, wValue, wIndex, bytes(data).hex())
        size, back = self._call("ctrl_transfer", *args, timeout, timeout_ms=timeout)
        if bmRequestType & 0x80:  # device to host: the data stage is the answer
            _fill(data, bytes.fromhex(back)[:size])
        return int(size)


def _fill(buff: array.array[int], data: bytes) -> int:
    """Copy `data` into the start of `buff`; how many bytes that is."""
    view = memoryview(buff).cast("B")
    view[: len(data)] = data
    return len(data)
