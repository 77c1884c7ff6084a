"""The simulated buses, devices, printers and fingerprint readers a control endpoint answers
for, and its verbs.

A request is a JSON object ``{"verb": VERB, ...arguments}``; the answer is a
JSON object with ``"ok": true`` and the verb's result, or ``"ok": false`` and
an ``"error"`` naming what was wrong. `SimRegistry.handle` never raises, so a
bad request cannot take the simulators down.

Verbs (DESIGN.md "Simulator control"):

- ``list``: every device (id, kind, model, bus, link, address, faults) and bus;
  printers are devices of kind ``printer`` with ``link`` (usb, tcp, serial),
  ``where`` (vendor:product, tcp:// URL or pty path), ``paper`` and faults;
  fingerprint readers are devices of kind ``fingerprint-reader`` with ``path``
  (their pty symlink), ``address``, ``templates`` (how many pages hold one)
  and faults.
- ``press`` ``keypad`` ``key`` [``digits``]: a keypad key; digits as a string
  of decimal digits ("12"), a whole number or a list of 0-9. The answer's
  ``at`` is the moment of the press (``time.monotonic()``, the clock the bus
  stamps frames with), for timing what follows it from another process.
- ``rate`` ``pad`` ``level``: level 1 (非常满意) to 5 (非常不满意); ``at`` as
  for ``press``.
- ``show`` ``target``: a device's, a printer's (with its last ticket), a
  reader's (with its library and the finger on it) or a bus's snapshot
  (``device`` is accepted for ``target``).
- ``finger`` ``reader`` ``staff``: put a finger on a reader's sensor: the
  finger of ``staff`` (any identity string), or ``unknown`` (enrolled
  nowhere) or ``poor`` (too poor an image to read). It stays until the reader
  has imaged it once, or for `FINGER_SECONDS`.
- ``fault`` ``target`` ``kind``: silent, garble, split or ok on a device;
  unplug, echo (an adapter swapped in that hands the host back what it sends)
  or ok (plugged in, not echoing) on a bus; paper-near, paper-out, cover-open,
  cutter-error, unplug, off or ok on a printer; silent, garble or ok on a
  fingerprint reader; down or ok on the MQTT broker of `hallkeeper simulate`
  (``broker``: stopped, started again on the same port).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from simulators.escpos.link import PrinterLink
from simulators.escpos.printer import FAULTS as PRINTER_FAULTS
from simulators.mosquitto import BROKER_FAULTS, MosquittoBroker
from simulators.r30x import FAULTS as READER_FAULTS
from simulators.r30x import FINGER_SECONDS, SerialFingerprintLink
from simulators.rs485.bus import SimulatedBus
from simulators.rs485.devices import LEVELS, KeypadSim, PadSim
from simulators.rs485.port import FAULT_OK, BusDevice
from simulators.zk.link import TerminalLink

__all__ = [
    "BROKER_FAULTS",
    "BUS_FAULTS",
    "FINGER_POOR",
    "FINGER_UNKNOWN",
    "PRINTER_FAULTS",
    "READER_FAULTS",
    "VERBS",
    "RequestError",
    "SimRegistry",
]

log = logging.getLogger(__name__)

FAULT_UNPLUG = "unplug"
FAULT_ECHO = "echo"
BUS_FAULTS = (FAULT_UNPLUG, FAULT_ECHO, FAULT_OK)
VERBS = ("list", "press", "rate", "show", "finger", "fault")
#: What `finger` puts on the sensor for these instead of a staff member's finger.
FINGER_UNKNOWN = "unknown"
FINGER_POOR = "poor"
#: How many known names an "unknown target" error lists.
NAMES_SHOWN = 12

Answer = dict[str, Any]
Simulator = (
    BusDevice | SimulatedBus | PrinterLink | SerialFingerprintLink | TerminalLink | MosquittoBroker
)


class RequestError(ValueError):
    """A request the simulators cannot carry out; its message is the answer's error."""


def _text(args: dict[str, Any], verb: str, *names: str) -> str:
    """The first of ``names`` present in ``args``, as a non-empty string."""
    for name in names:
        value = args.get(name)
        if value is None:
            continue
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
            raise RequestError(f"{verb}: {name} must be a name, got {value!r}")
        return str(value)
    raise RequestError(f"{verb} needs {names[0]!r}")


def _digits(value: object) -> tuple[int, ...]:
    """Typed digits from a string ("12"), a whole number (12) or a list ([1, 2])."""
    if value is None or value == "":
        return ()
    if isinstance(value, bool):
        raise RequestError(f"digits must be decimal digits, got {value!r}")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise RequestError(f"digits must be decimal digits, got {value!r}")
        return tuple(int(char) for char in value)
    if isinstance(value, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 9 for d in value
    ):
        return tuple(value)
    raise RequestError(f"digits must be decimal digits, got {value!r}")


def _level(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise RequestError(f"rate: level must be a whole number 1-5, got {value!r}")
    return value


class SimRegistry:
    """Buses and their devices, printers and fingerprint readers, looked up by id for the
    control verbs."""

    def __init__(self) -> None:
        self._buses: list[SimulatedBus] = []
        self._printers: list[PrinterLink] = []
        self._readers: list[SerialFingerprintLink] = []
        self._terminals: list[TerminalLink] = []
        self._brokers: list[MosquittoBroker] = []
        self._lock = threading.Lock()
        self._verbs: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "list": self._list,
            "press": self._press,
            "rate": self._rate,
            "show": self._show,
            "finger": self._finger,
            "fault": self._fault,
        }

    def add_bus(self, bus: SimulatedBus) -> SimulatedBus:
        with self._lock:
            if any(other.name == bus.name for other in self._buses):
                raise ValueError(f"a bus named {bus.name!r} is registered already")
            self._buses.append(bus)
        return bus

    def add_printer(self, link: PrinterLink) -> PrinterLink:
        """Register a printer by its link; ValueError if a simulator has its id already."""
        with self._lock:
            self._check_free(link.id)
            self._printers.append(link)
        return link

    def add_reader(self, link: SerialFingerprintLink) -> SerialFingerprintLink:
        """Register a fingerprint reader by its link; ValueError if a simulator has its id
        already."""
        with self._lock:
            self._check_free(link.id)
            self._readers.append(link)
        return link

    def add_terminal(self, link: TerminalLink) -> TerminalLink:
        """Register an attendance terminal; ValueError if a simulator has its id already."""
        with self._lock:
            self._check_free(link.id)
            self._terminals.append(link)
        return link

    def add_broker(self, broker: MosquittoBroker) -> MosquittoBroker:
        """Register the hall's MQTT broker; ValueError if a simulator has its id already."""
        with self._lock:
            self._check_free(broker.id)
            self._brokers.append(broker)
        return broker

    def _check_free(self, name: str) -> None:
        """ValueError if a device, printer, reader or bus is called ``name`` (under the lock)."""
        taken = {device.id for bus in self._buses for device in bus.devices}
        taken |= {bus.name for bus in self._buses}
        taken |= {link.id for link in (*self._printers, *self._readers, *self._terminals)}
        taken |= {broker.id for broker in self._brokers}
        if name in taken:
            raise ValueError(f"a simulator named {name!r} is registered already")

    @property
    def buses(self) -> tuple[SimulatedBus, ...]:
        with self._lock:
            return tuple(self._buses)

    @property
    def printers(self) -> tuple[PrinterLink, ...]:
        with self._lock:
            return tuple(self._printers)

    @property
    def readers(self) -> tuple[SerialFingerprintLink, ...]:
        with self._lock:
            return tuple(self._readers)

    @property
    def terminals(self) -> tuple[TerminalLink, ...]:
        with self._lock:
            return tuple(self._terminals)

    @property
    def brokers(self) -> tuple[MosquittoBroker, ...]:
        with self._lock:
            return tuple(self._brokers)

    def devices(self) -> list[tuple[BusDevice, SimulatedBus]]:
        return [(device, bus) for bus in self.buses for device in bus.devices]

    def find(self, target: str) -> Simulator:
        """The device, printer, reader, terminal or bus called ``target``; RequestError if
        none or several are."""
        found: list[Simulator] = [device for device, _ in self.devices() if device.id == target]
        found += [printer for printer in self.printers if printer.id == target]
        found += [reader for reader in self.readers if reader.id == target]
        found += [terminal for terminal in self.terminals if terminal.id == target]
        found += [bus for bus in self.buses if bus.name == target]
        found += [broker for broker in self.brokers if broker.id == target]
        if len(found) == 1:
            return found[0]
        if found:
            raise RequestError(f"{target!r} names {len(found)} simulators; ids must be unique")
        names = sorted(
            [d.id for d, _ in self.devices()]
            + [p.id for p in self.printers]
            + [r.id for r in self.readers]
            + [t.id for t in self.terminals]
            + [b.name for b in self.buses]
            + [b.id for b in self.brokers]
        )
        shown = ", ".join(names[:NAMES_SHOWN]) + (", ..." if len(names) > NAMES_SHOWN else "")
        raise RequestError(f"no simulated device or bus {target!r} (known: {shown or 'none'})")

    def handle(self, request: object) -> Answer:
        """Carry out one request; any failure becomes an answer with an error."""
        try:
            if not isinstance(request, dict):
                raise RequestError("a request is a JSON object with a 'verb'")
            verb = request.get("verb")
            if verb not in self._verbs:
                raise RequestError(f"unknown verb {verb!r} (verbs: {', '.join(VERBS)})")
            return {"ok": True, **self._verbs[verb](request)}
        except (RequestError, ValueError, LookupError) as error:
            return {"ok": False, "error": str(error)}
        except Exception as error:
            log.exception("simulator control: %r failed", request)
            return {"ok": False, "error": f"internal error: {type(error).__name__}: {error}"}

    # --- verbs ---------------------------------------------------------------------

    def _list(self, args: dict[str, Any]) -> Answer:
        return {
            "devices": [
                {**device.describe(), "link": str(bus.path)} for device, bus in self.devices()
            ]
            + [printer.describe() for printer in self.printers]
            + [reader.describe() for reader in self.readers]
            + [terminal.describe() for terminal in self.terminals]
            + [broker.describe() for broker in self.brokers],
            "buses": [bus.describe() for bus in self.buses],
        }

    def _device(
        self, target: str, kind: type[BusDevice] | type[SerialFingerprintLink], verb: str
    ) -> Any:
        found = self.find(target)
        if not isinstance(found, kind):
            raise RequestError(f"{verb}: {target!r} is a {found.kind}, not a {kind.kind}")
        return found

    def _press(self, args: dict[str, Any]) -> Answer:
        keypad: KeypadSim = self._device(_text(args, "press", "keypad"), KeypadSim, "press")
        key = _text(args, "press", "key")
        digits = _digits(args.get("digits"))
        at = time.monotonic()
        sent = keypad.press(key, digits)
        answer: Answer = {
            "device": keypad.id,
            "key": key,
            "digits": list(digits),
            "sent": sent,
            "at": at,
        }
        if not sent:
            answer["note"] = f"{keypad.id} is silent: the press is lost"
        return answer

    def _rate(self, args: dict[str, Any]) -> Answer:
        pad: PadSim = self._device(_text(args, "rate", "pad"), PadSim, "rate")
        level = _level(args.get("level"))
        at = time.monotonic()
        sent = pad.rate(level)
        answer: Answer = {
            "device": pad.id,
            "level": level,
            "meaning": LEVELS[level],
            "sent": sent,
            "at": at,
        }
        if not sent:
            answer["note"] = f"{pad.id} is silent: the rating is lost"
        return answer

    def _show(self, args: dict[str, Any]) -> Answer:
        found = self.find(_text(args, "show", "target", "device"))
        return {
            "target": found.name if isinstance(found, SimulatedBus) else found.id,
            "state": found.snapshot(),
        }

    def _finger(self, args: dict[str, Any]) -> Answer:
        target = _text(args, "finger", "reader")
        staff = _text(args, "finger", "staff")
        found = self.find(target)
        if isinstance(found, TerminalLink):  # STAFF is the user id on the terminal
            found.terminal.punch(staff)
            return {"terminal": found.id, "user": staff}
        reader: SerialFingerprintLink = self._device(target, SerialFingerprintLink, "finger")
        if staff == FINGER_UNKNOWN:
            reader.module.place_unknown()
        elif staff == FINGER_POOR:
            reader.module.place_poor()
        else:
            reader.module.place(staff)
        return {"reader": reader.id, "finger": staff, "seconds": FINGER_SECONDS}

    def _fault(self, args: dict[str, Any]) -> Answer:
        found = self.find(_text(args, "fault", "target", "device"))
        kind = _text(args, "fault", "kind")
        if isinstance(found, PrinterLink):
            found.printer.set_fault(kind)
            return {"target": found.id, "kind": kind, "faults": sorted(found.printer.faults)}
        if isinstance(found, SerialFingerprintLink):
            found.module.set_fault(kind)
            return {"target": found.id, "kind": kind, "faults": sorted(found.module.faults)}
        if isinstance(found, MosquittoBroker):
            found.set_fault(kind)
            return {"target": found.id, "kind": kind, "faults": found.faults}
        if isinstance(found, TerminalLink):
            found.terminal.set_fault(kind)
            return {"target": found.id, "kind": kind, "faults": found.describe().get("faults")}
        if isinstance(found, SimulatedBus):
            if kind == FAULT_UNPLUG:
                found.unplug()
            elif kind in (FAULT_ECHO, FAULT_OK):
                found.use_adapter(echoes=kind == FAULT_ECHO)
            else:
                raise RequestError(
                    f"bus {found.name!r} does not support fault {kind!r} "
                    f"(supported: {', '.join(BUS_FAULTS)})"
                )
            return {
                "target": found.name,
                "kind": kind,
                "plugged": found.plugged,
                "faults": found.faults,
            }
        if kind == FAULT_UNPLUG:
            raise RequestError(
                f"unplug is a bus fault: {found.kind} {found.id!r} is on bus {found.bus_name!r}"
            )
        found.set_fault(kind)
        return {"target": found.id, "kind": kind, "faults": sorted(found.faults)}
