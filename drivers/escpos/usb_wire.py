"""The wire between a pyusb backend and the process serving its USB bus
(`drivers.escpos.usb_remote`, `simulators.escpos.usb_server`), sans I/O.

One JSON object per line each way. A request is ``{"call": NAME, "args": [...]}``
where devices and handles travel as the numbers the server gave them and byte
buffers as hex; the answer is ``{"ok": RESULT}`` or
``{"error": {"kind", "message", "errno", "code"}}``, the kinds being
``usb`` and ``timeout`` (pyusb's ``USBError`` and ``USBTimeoutError`` with the
libusb errno and code), ``index`` (a descriptor index out of range) and
``value`` (anything else).
"""

from __future__ import annotations

import errno
import json
from typing import Any

from usb.core import USBError, USBTimeoutError

__all__ = [
    "CALLS",
    "LIBUSB_ERROR_NO_DEVICE",
    "decode_answer",
    "encode",
    "encode_error",
    "no_device",
]

LIBUSB_ERROR_NO_DEVICE = -4

#: The backend calls forwarded, and what their first argument is.
CALLS: dict[str, str] = {
    "enumerate_devices": "none",
    "get_parent": "device",
    "get_device_descriptor": "device",
    "get_configuration_descriptor": "device",
    "get_interface_descriptor": "device",
    "get_endpoint_descriptor": "device",
    "open_device": "device",
    "close_device": "handle",
    "set_configuration": "handle",
    "get_configuration": "handle",
    "set_interface_altsetting": "handle",
    "claim_interface": "handle",
    "release_interface": "handle",
    "bulk_write": "handle",
    "bulk_read": "handle",
    "ctrl_transfer": "handle",
    "clear_halt": "handle",
    "reset_device": "handle",
    "is_kernel_driver_active": "handle",
    "detach_kernel_driver": "handle",
    "attach_kernel_driver": "handle",
}


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def no_device() -> USBError:
    return USBError(
        "No such device (it may have been disconnected)", LIBUSB_ERROR_NO_DEVICE, errno.ENODEV
    )


def decode_answer(line: bytes) -> Any:
    """The result in an answer line; the error it carries, raised as pyusb would."""
    answer = json.loads(line)
    if "error" not in answer:
        return answer["ok"]
    error = answer["error"]
    kind, message = error.get("kind"), str(error.get("message", ""))
    if kind == "timeout":
        raise USBTimeoutError(message, error.get("code"), error.get("errno"))
    if kind == "usb":
        raise USBError(message, error.get("code"), error.get("errno"))
    if kind == "index":
        raise IndexError(message)
    raise ValueError(message)


def encode_error(error: Exception) -> dict[str, Any]:
    """The answer for a call that raised `error`."""
    if isinstance(error, USBError):
        kind = "timeout" if isinstance(error, USBTimeoutError) else "usb"
        details = {"errno": error.errno, "code": error.backend_error_code}
        return {"error": {"kind": kind, "message": error.strerror, **details}}
    if isinstance(error, IndexError):
        return {"error": {"kind": "index", "message": str(error)}}
    return {"error": {"kind": "value", "message": f"{type(error).__name__}: {error}"}}
