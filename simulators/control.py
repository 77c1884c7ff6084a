"""The simulator control endpoint (DESIGN.md "Simulator control"): server, client, CLI.

The simulators answer on a ZeroMQ REP socket bound to loopback only (the
project already speaks ZeroMQ for its event feed); each request and answer is
one JSON object (see `simulators.registry` for the verbs). The endpoint is
``tcp://127.0.0.1:5558`` unless ``HALLKEEPER_SIM_CONTROL`` or ``--control``
says otherwise.

``hallkeeper sim [--control ENDPOINT] [--json] [--timeout S] VERB ARGS...``
is `sim_command`. Exit codes: 0 done, 1 the simulators answered with an
error, 2 bad command line, 3 no simulator answered.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

import zmq

from simulators.registry import (
    BROKER_FAULTS,
    BUS_FAULTS,
    FINGER_POOR,
    FINGER_UNKNOWN,
    PRINTER_FAULTS,
    READER_FAULTS,
    SimRegistry,
)
from simulators.rs485.devices import KEYS

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_TIMEOUT",
    "ENV_ENDPOINT",
    "ControlError",
    "ControlServer",
    "NoAnswer",
    "default_endpoint",
    "request",
    "sim_command",
]

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5558"
ENV_ENDPOINT = "HALLKEEPER_SIM_CONTROL"
#: Seconds a client waits for an answer.
DEFAULT_TIMEOUT = 3.0

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NO_ANSWER = 0, 1, 2, 3

DEVICE_FAULTS = ("silent", "garble", "split", "ok")
PRINTER = "printer"
READER = "fingerprint-reader"


class ControlError(Exception):
    """The control endpoint could not be reached or gave no usable answer."""


class NoAnswer(ControlError, TimeoutError):
    """No simulator answered at the endpoint in time."""


def default_endpoint() -> str:
    return os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT


def check_loopback(endpoint: str) -> None:
    """ValueError unless ``endpoint`` can only be reached from this machine.

    Allowed: ``tcp://`` on 127.0.0.0/8, ``::1`` or ``localhost``, and ``ipc://``
    or ``inproc://``. The simulators let anyone press keys and unplug buses,
    so they never listen on a network interface.
    """
    scheme, _, rest = endpoint.partition("://")
    if scheme in ("ipc", "inproc") and rest:
        return
    if scheme != "tcp" or not rest:
        raise ValueError(f"control endpoint {endpoint!r} is not tcp://, ipc:// or inproc://")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not port or not host:
        raise ValueError(f"control endpoint {endpoint!r} has no host and port")
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"control endpoint {endpoint!r} is not on loopback (use 127.0.0.1 or ::1)")


class ControlServer:
    """Answers control requests for ``registry`` on ``endpoint`` in its own thread.

    ``endpoint`` may end in ``:*`` to take a free port; `endpoint` then tells
    the one bound.
    """

    def __init__(self, registry: SimRegistry, endpoint: str | None = None) -> None:
        self.registry = registry
        self.requested = endpoint or default_endpoint()
        check_loopback(self.requested)
        self.endpoint = self.requested
        self._context: zmq.Context[Any] | None = None
        self._socket: zmq.Socket[Any] | None = None
        self._stop_in: zmq.Socket[Any] | None = None
        self._stop_out: zmq.Socket[Any] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind and start answering; ControlError if the endpoint cannot be bound."""
        if self._thread is not None:
            raise RuntimeError("the control server was already started")
        context: zmq.Context[Any] = zmq.Context()
        socket = context.socket(zmq.REP)
        socket.setsockopt(zmq.LINGER, 0)
        if self.requested.startswith(("tcp://[", "tcp://::")):
            socket.setsockopt(zmq.IPV6, 1)
        try:
            socket.bind(self.requested)
        except zmq.ZMQError as error:
            socket.close(linger=0)
            context.term()
            raise ControlError(
                f"cannot bind the simulator control endpoint {self.requested}: {error}"
            ) from error
        self.endpoint = socket.getsockopt_string(zmq.LAST_ENDPOINT)
        # stop() wakes the server through this pair of sockets rather than a poll timeout.
        wakeup = f"inproc://sim-control-stop-{id(self)}"
        self._stop_in = context.socket(zmq.PAIR)
        self._stop_in.setsockopt(zmq.LINGER, 0)
        self._stop_in.bind(wakeup)
        self._stop_out = context.socket(zmq.PAIR)
        self._stop_out.setsockopt(zmq.LINGER, 0)
        self._stop_out.connect(wakeup)
        self._context, self._socket = context, socket
        self._thread = threading.Thread(target=self._serve, name="sim-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop answering and release the endpoint. Safe to repeat."""
        if self._thread is not None and self._stop_out is not None:
            self._stop_out.send(b"stop")
            self._thread.join(5)
        for sock in (self._socket, self._stop_in, self._stop_out):
            if sock is not None:
                sock.close(linger=0)
        if self._context is not None:
            self._context.term()
        self._socket = self._stop_in = self._stop_out = None
        self._context = None

    def _serve(self) -> None:
        socket, stop = self._socket, self._stop_in
        assert socket is not None and stop is not None
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(stop, zmq.POLLIN)
        while True:
            ready = dict(poller.poll())
            if stop in ready:
                return
            if socket not in ready:
                continue
            message = socket.recv()
            try:
                request = json.loads(message)
            except (ValueError, UnicodeDecodeError):
                answer: dict[str, Any] = {"ok": False, "error": "the request is not JSON"}
            else:
                answer = self.registry.handle(request)
            socket.send(json.dumps(answer, ensure_ascii=False).encode())


def request(
    endpoint: str, verb: str, *, timeout: float = DEFAULT_TIMEOUT, **args: Any
) -> dict[str, Any]:
    """Send one request to the simulators at ``endpoint`` and return their answer.

    The answer has ``"ok": false`` and an ``"error"`` when the simulators refused
    the request; NoAnswer if nothing answered within ``timeout`` seconds.
    """
    context: zmq.Context[Any] = zmq.Context()
    try:
        socket = context.socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.connect(endpoint)
        except zmq.ZMQError as error:
            raise ControlError(f"cannot connect to {endpoint}: {error}") from error
        socket.send(json.dumps({**args, "verb": verb}).encode())
        if not socket.poll(int(timeout * 1000)):
            raise NoAnswer(f"no simulator answered at {endpoint} within {timeout:g} s")
        try:
            answer = json.loads(socket.recv())
        except ValueError as error:
            raise ControlError(f"the answer from {endpoint} is not JSON") from error
        if not isinstance(answer, dict):
            raise ControlError(f"the answer from {endpoint} is not a JSON object")
        return answer
    finally:
        context.destroy(linger=0)


# --- hallkeeper sim ---------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    # The options go before or after the verb; SUPPRESS keeps a later default
    # from overwriting an earlier value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--control",
        metavar="ENDPOINT",
        default=argparse.SUPPRESS,
        help=f"control endpoint (default: ${ENV_ENDPOINT} or {DEFAULT_ENDPOINT})",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the JSON answer"
    )
    common.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=argparse.SUPPRESS,
        help=f"how long to wait for an answer (default {DEFAULT_TIMEOUT:g})",
    )
    parser = argparse.ArgumentParser(
        prog="hallkeeper sim",
        description="Drive the running simulators: press keys, rate, place fingers, inspect, "
        "inject faults.",
        parents=[common],
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("list", parents=[common], help="every simulated device and bus")
    press = verbs.add_parser("press", parents=[common], help="press a keypad key")
    press.add_argument("keypad")
    press.add_argument("key", choices=tuple(KEYS))
    press.add_argument(
        "--digits", metavar="N", help="digits typed before the key (transfer: window)"
    )
    rate = verbs.add_parser("rate", parents=[common], help="rate on an evaluation pad")
    rate.add_argument("pad")
    rate.add_argument("level", help="1 (非常满意) to 5 (非常不满意)")
    show = verbs.add_parser(
        "show", parents=[common], help="what a device shows now; a printer's last ticket"
    )
    show.add_argument("target", metavar="DEVICE")
    finger = verbs.add_parser(
        "finger", parents=[common], help="put a finger on a fingerprint reader's sensor"
    )
    finger.add_argument("reader")
    finger.add_argument(
        "staff",
        metavar=f"STAFF|{FINGER_UNKNOWN}|{FINGER_POOR}",
        help=f"whose finger (a staff id); {FINGER_UNKNOWN}: enrolled nowhere; "
        f"{FINGER_POOR}: too poor an image to read",
    )
    fault = verbs.add_parser("fault", parents=[common], help="inject or clear a fault")
    fault.add_argument("target", metavar="DEVICE|BUS")
    fault.add_argument(
        "kind",
        help=f"device: {', '.join(DEVICE_FAULTS)}; bus: {', '.join(BUS_FAULTS)}; "
        f"printer: {', '.join(PRINTER_FAULTS)}; reader: {', '.join(READER_FAULTS)}; "
        f"broker: {', '.join(BROKER_FAULTS)}",
    )
    return parser


def sim_command(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """``hallkeeper sim ...``; ``argv`` is what follows ``sim``. Returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = _parser().parse_args(list(sys.argv[2:] if argv is None else argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    endpoint = getattr(args, "control", None) or default_endpoint()
    as_json = getattr(args, "json", False)
    timeout = getattr(args, "timeout", DEFAULT_TIMEOUT)
    fields = {
        name: value
        for name, value in vars(args).items()
        if name not in ("verb", "control", "json", "timeout") and value is not None
    }
    try:
        answer = request(endpoint, args.verb, timeout=timeout, **fields)
    except ControlError as error:
        message = f"{error} (is the hall running with --simulate, or `hallkeeper simulate`?)"
        if as_json:
            print(json.dumps({"ok": False, "error": message, "endpoint": endpoint}), file=out)
        else:
            print(f"hallkeeper sim: {message}", file=err)
        return EXIT_NO_ANSWER
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2), file=out)
    elif answer.get("ok"):
        print(_human(args.verb, answer), file=out)
    else:
        print(f"hallkeeper sim {args.verb}: {answer.get('error', answer)}", file=err)
    return EXIT_OK if answer.get("ok") else EXIT_ERROR


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _human(verb: str, answer: dict[str, Any]) -> str:
    if verb == "list":
        listed = answer.get("devices", [])
        devices = [["DEVICE", "KIND", "MODEL", "BUS", "ADDRESS", "FAULTS"]] + [
            [
                str(d["id"]),
                str(d["kind"]),
                str(d["model"]),
                str(d.get("bus") or "-"),
                str(d.get("address", "-")),
                _faults(d),
            ]
            for d in listed
            if d["kind"] not in (PRINTER, READER)
        ]
        printers = [["PRINTER", "MODEL", "LINK", "WHERE", "PAPER", "FAULTS"]] + [
            [*(str(d[key]) for key in ("id", "model", "link", "where", "paper")), _faults(d)]
            for d in listed
            if d["kind"] == PRINTER
        ]
        readers = [["READER", "MODEL", "PATH", "ADDRESS", "TEMPLATES", "FAULTS"]] + [
            [
                str(d["id"]),
                str(d["model"]),
                str(d["path"]),
                f"{d['address']:08x}",
                str(d["templates"]),
                _faults(d),
            ]
            for d in listed
            if d["kind"] == READER
        ]
        buses = [["BUS", "PATH", "PLUGGED", "DEVICES", "FAULTS"]] + [
            [
                str(b["id"]),
                str(b["path"]),
                "yes" if b["plugged"] else "NO",
                str(len(b["devices"])),
                _faults(b),
            ]
            for b in answer.get("buses", [])
        ]
        tables = [devices] + [t for t in (printers, readers) if len(t) > 1] + [buses]
        return "\n\n".join(_table(table) for table in tables)
    if verb == "press":
        digits = "".join(str(d) for d in answer.get("digits", []))
        text = f"{answer['device']}: pressed {answer['key']}" + (f" {digits}" if digits else "")
        return text + (f" ({answer['note']})" if "note" in answer else "")
    if verb == "rate":
        text = f"{answer['device']}: rated {answer['level']} ({answer['meaning']})"
        return text + (f" ({answer['note']})" if "note" in answer else "")
    if verb == "finger" and "terminal" in answer:
        return f"{answer['terminal']}: user {answer['user']} punched"
    if verb == "finger":
        who = {
            FINGER_UNKNOWN: "an unknown finger",
            FINGER_POOR: "a poor finger",
        }.get(answer["finger"], f"the finger of {answer['finger']}")
        return f"{answer['reader']}: {who} is on the sensor (for up to {answer['seconds']:g} s)"
    if verb == "fault":
        if "plugged" in answer:
            plugged = "plugged in" if answer["plugged"] else "unplugged"
            echoing = ", echoing what the host sends" if "echo" in answer["faults"] else ""
            return f"{answer['target']}: {plugged}{echoing}"
        return f"{answer['target']}: faults {', '.join(answer['faults']) or 'none'}"
    if verb == "show":
        state = answer.get("state", {})
        if state.get("kind") == PRINTER:
            return _printer(state)
        if state.get("kind") == READER:
            return _reader(state)
        return "\n".join(_lines(state))
    return json.dumps(answer, ensure_ascii=False)


def _faults(described: dict[str, Any]) -> str:
    return ",".join(described.get("faults") or []) or "-"


def _printer(state: dict[str, Any]) -> str:
    """A printer's state in a few lines, then its last ticket as printed."""
    counters = state.get("counters", {})
    lines = [
        f"{state['id']}: {state['model']} printer on {state['link']} {state['where']}",
        f"paper {state['paper']}, cover {state['cover']}, cutter {state['cutter']}, "
        f"faults {', '.join(state.get('faults') or []) or 'none'}",
        ", ".join(f"{name} {value}" for name, value in counters.items()),
    ]
    ticket = state.get("ticket")
    if ticket is None:
        return "\n".join([*lines, "no ticket printed yet"])
    title = "last ticket:" if ticket["cut"] else "last ticket (not cut yet):"
    return "\n".join([*lines, title, *("  " + line for line in ticket["printout"])])


def _reader(state: dict[str, Any]) -> str:
    """A fingerprint reader's state in a few lines, then its library page by page."""
    finger = state.get("finger")
    on_sensor = (
        f"finger {finger['print']} on the sensor ({finger['seconds_left']:g} s left)"
        if finger
        else "no finger on the sensor"
    )
    library = state.get("library", {})
    lines = [
        f"{state['id']}: {state['model']} fingerprint reader on {state['link']} "
        f"{state['path']}, address {state['address']:08x}",
        f"{on_sensor}, faults {', '.join(state.get('faults') or []) or 'none'}",
        ", ".join(f"{name} {value}" for name, value in state.get("counters", {}).items()),
        f"library: {len(library)} of {state['capacity']} pages",
        *(f"  page {page}: {who}" for page, who in library.items()),
    ]
    return "\n".join(lines)


def _lines(state: dict[str, Any], prefix: str = "") -> list[str]:
    """A snapshot as ``name: value`` lines; nested objects flattened with dots."""
    lines: list[str] = []
    for name, value in state.items():
        if isinstance(value, dict):
            lines += _lines(value, f"{prefix}{name}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{prefix}{name}:")
            lines += ["  " + ", ".join(f"{k}={v}" for k, v in item.items()) for item in value]
        elif isinstance(value, list):
            lines.append(f"{prefix}{name}: {', '.join(map(str, value)) or '-'}")
        else:
            lines.append(f"{prefix}{name}: {'-' if value is None else value}")
    return lines
