"""A pyusb backend served on a Unix socket, for a host in another process.

`UsbBackendServer` answers the calls of `drivers.escpos.usb_remote.RemoteUsbBackend`
(the wire is `drivers.escpos.usb_wire`) with a backend of this process, normally the
`SimulatedUsbBackend` of `hallkeeper simulate`. One thread per connection;
devices and handles are numbered for the client and looked up again on each
call. A number the server does not know (a handle from before the server was
restarted) is a device that is gone: ENODEV. When a connection ends (the host
process exited or was killed), the handles opened over it are closed and their
interfaces released, as the kernel does for a process that dies.
"""

from __future__ import annotations

import array
import contextlib
import itertools
import json
import logging
import os
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

import usb.backend
from usb.core import USBError

from drivers.escpos.usb_wire import CALLS, encode, encode_error, no_device

__all__ = ["UsbBackendServer"]

log = logging.getLogger(__name__)

#: The longest path a Unix socket can have on Linux (sun_path, with its NUL).
MAX_SOCKET_PATH = 107
#: How often the accepting thread looks whether it is to stop.
STOP_POLL_SECONDS = 0.05


class UsbBackendServer:
    """Serves `backend` at the Unix socket `path` (replaced if a stale one is there)."""

    def __init__(self, backend: usb.backend.IBackend, path: Path) -> None:
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise ValueError(
                f"the USB bus socket path {path} is longer than {MAX_SOCKET_PATH} bytes: "
                "use a shorter folder"
            )
        self.backend = backend
        self.path = path
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._devices: dict[int, Any] = {}  # number -> the backend's device
        self._device_numbers: dict[int, int] = {}  # id(device) -> number
        self._handles: dict[int, Any] = {}
        self._connections: set[socket.socket] = set()
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        serving = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with serving._lock:
                    serving._connections.add(self.connection)
                try:
                    serving._serve(self.rfile, self.wfile)
                finally:
                    with serving._lock:
                        serving._connections.discard(self.connection)

        server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="usb-server",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting calls and remove the socket. Safe to repeat."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # the clients see the bus go away
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _serve(self, rfile: Any, wfile: Any) -> None:
        owned: set[int] = set()
        try:
            self._answer_all(rfile, wfile, owned)
        finally:
            for number in owned:
                with contextlib.suppress(Exception):
                    self._close(number)

    def _answer_all(self, rfile: Any, wfile: Any, owned: set[int]) -> None:
        for line in rfile:
            try:
                answer = {"ok": self.answer(line, owned)}
            except (USBError, IndexError) as error:
                answer = encode_error(error)
            except Exception as error:
                log.exception("USB bus server: a call failed")
                answer = encode_error(error)
            try:
                wfile.write(encode(answer))
                wfile.flush()
            except OSError:
                return

    def answer(self, line: bytes, owned: set[int]) -> Any:
        """The result of one call line; the backend's errors are raised. `owned`: the
        handles the connection opened."""
        request = json.loads(line)
        name, args = request["call"], list(request["args"])
        taking = CALLS.get(name)
        if taking is None:
            raise ValueError(f"unknown call {name!r}")
        if name == "enumerate_devices":
            return [self._number(device) for device in self.backend.enumerate_devices()]
        first = self._device(args[0]) if taking == "device" else self._handle(args[0])
        rest = args[1:]
        if name.endswith("_descriptor"):
            return _fields(getattr(self.backend, name)(first, *rest))
        if name == "open_device":
            number = self._open(first)
            owned.add(number)
            return number
        if name == "close_device":
            owned.discard(args[0])
            self._close(args[0])
            return None
        if name == "bulk_write":
            ep, intf, data, timeout = rest
            return self.backend.bulk_write(first, ep, intf, _buffer(bytes.fromhex(data)), timeout)
        if name == "bulk_read":
            ep, intf, size, timeout = rest
            buff = _buffer(bytes(size))
            got = self.backend.bulk_read(first, ep, intf, buff, timeout)
            return bytes(buff[:got]).hex()
        if name == "ctrl_transfer":
            request_type, request_, value, index, data, timeout = rest
            buff = _buffer(bytes.fromhex(data))
            size = self.backend.ctrl_transfer(
                first, request_type, request_, value, index, buff, timeout
            )
            return [size, bytes(buff).hex()]
        return getattr(self.backend, name)(first, *rest)

    def _number(self, device: Any) -> int:
        with self._lock:
            number = self._device_numbers.get(id(device))
            if number is None:
                number = next(self._numbers)
                self._device_numbers[id(device)] = number
                self._devices[number] = device
            return number

    def _device(self, number: int) -> Any:
        with self._lock:
            device = self._devices.get(number)
        if device is None:
            raise no_device()
        return device

    def _handle(self, number: int) -> Any:
        with self._lock:
            handle = self._handles.get(number)
        if handle is None:
            raise no_device()
        return handle

    def _close(self, number: int) -> None:
        with self._lock:
            handle = self._handles.pop(number, None)
        if handle is not None:
            self.backend.close_device(handle)

    def _open(self, device: Any) -> int:
        handle = self.backend.open_device(device)
        with self._lock:
            number = next(self._numbers)
            self._handles[number] = handle
        return number


def _buffer(data: bytes) -> array.array[int]:
    return array.array("B", data)


def _fields(descriptor: Any) -> dict[str, Any]:
    """A descriptor's public fields (numbers, and lists or tuples of them) as JSON."""
    fields: dict[str, Any] = {}
    for name in dir(descriptor):
        if name.startswith("_"):
            continue
        value = getattr(descriptor, name)
        if value is None or isinstance(value, int):
            fields[name] = value
        elif isinstance(value, list | tuple):
            fields[name] = list(value)
    return fields
