"""`hallkeeper simulate --config FILE [--folder DIR] [--control ENDPOINT]`.

One process runs the simulators of every device in FILE (the same
`SimulatedHall` as `run --simulate`), serves its simulated USB bus on a Unix
socket, and starts mosquitto as the hall's broker when the config's broker is
embedded or on loopback. Once all of them listen, it writes the overlay config
`DIR/hall.yaml` (see `daemon.simulate.overlay`), prints where everything is,
and runs until SIGTERM or SIGINT; then it stops them and removes the overlay.

DIR is by default the `sim` folder next to the hall's store, as for
`run --simulate`.
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from daemon.config.loader import load_config
from daemon.config.model import HallConfig
from daemon.config.yaml_source import parse_yaml
from daemon.mqtt.broker import BrokerUrl, parse_broker
from daemon.simulate.overlay import OVERLAY_NAME, USB_SOCKET_NAME, overlay_document, write_overlay
from daemon.simulate.ports import earlier_ports, remember_ports
from daemon.simulation import (
    NoSimulator,
    link_specs,
    printer_specs,
    reader_specs,
    sim_folder,
    terminal_specs,
)
from simulators.control import DEFAULT_ENDPOINT, ENV_ENDPOINT, ControlError, default_endpoint
from simulators.escpos.usb_server import UsbBackendServer
from simulators.hall import SimulatedHall
from simulators.mosquitto import MOSQUITTO_MISSING, MosquittoBroker, mosquitto_binary

__all__ = ["StartError", "hall_broker", "simulate_command"]


class StartError(Exception):
    """The simulated hall cannot start; the message says why."""


def simulate_command(
    config_path: Path,
    folder: Path | None = None,
    control: str | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the simulated hall until SIGTERM or SIGINT; the exit code (1: it could not start)."""
    out = out or sys.stdout
    config = load_config(config_path)
    folder = (folder or sim_folder(config)).resolve()
    overlay = folder / OVERLAY_NAME
    overlay.unlink(missing_ok=True)  # a stale one would point a daemon at nothing
    endpoint = control or default_endpoint()
    stop = _stop_on_signals()
    with contextlib.ExitStack() as running:
        try:
            simulated, broker, usb = _start(running, config, folder, endpoint, out)
        except StartError as error:
            print(f"hallkeeper simulate: {error}", file=sys.stderr)
            return 1
        original = parse_yaml(config_path.read_text(encoding="utf-8")).data
        broker_url = broker.url if broker is not None else None
        document = overlay_document(original, config, config_path, simulated, folder, broker_url)
        write_overlay(overlay, document, config_path.resolve())
        running.callback(overlay.unlink, missing_ok=True)
        _announce(out, config, overlay, endpoint, broker, usb)
        # The simulated devices stand for hardware: a full pass of the garbage
        # collector over what startup built would stall every bus for tens of
        # milliseconds (192 ms seen with 900 devices) and show up as the daemon's.
        gc.freeze()
        while not stop.wait(1.0):
            pass
    return 0


def _start(
    running: contextlib.ExitStack, config: HallConfig, folder: Path, endpoint: str, out: TextIO
) -> tuple[SimulatedHall, MosquittoBroker | None, UsbBackendServer | None]:
    """Start the simulators, the broker and the USB bus server; each is stopped
    when `running` closes. StartError if one cannot start."""
    try:
        simulated = SimulatedHall(
            link_specs(config),
            folder,
            endpoint,
            printers=printer_specs(config),
            readers=reader_specs(config),
            terminals=terminal_specs(config),
            ports=earlier_ports(folder),
        )
    except (NoSimulator, ValueError) as error:
        raise StartError(str(error)) from error
    broker = hall_broker(config, folder, out)
    if broker is not None:
        running.callback(broker.stop)
        try:
            broker.start()
        except RuntimeError as error:
            raise StartError(f"the MQTT broker: {error}") from error
        simulated.registry.add_broker(broker)
    try:
        simulated.start()
    except ControlError as error:
        simulated.stop()
        raise StartError(f"{error} (--control ENDPOINT)") from error
    running.callback(simulated.stop)
    remember_ports(folder, simulated.tcp_ports)
    if simulated.usb_backend is None:
        return simulated, broker, None
    try:
        usb = UsbBackendServer(simulated.usb_backend, folder / USB_SOCKET_NAME)
        usb.start()
    except (ValueError, OSError) as error:
        raise StartError(f"the simulated USB bus: {error}") from error
    running.callback(usb.stop)
    return simulated, broker, usb


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def hall_broker(config: HallConfig, folder: Path, out: TextIO) -> MosquittoBroker | None:
    """A mosquitto of the simulation's own, when the hall's broker is embedded or on
    this PC; None to keep the config's broker (an external one, or no mosquitto)."""
    if config.mqtt is None:
        return None
    broker = parse_broker(config.mqtt.broker, config.mqtt.ca_file)
    if isinstance(broker, BrokerUrl) and not _loopback(broker.host):
        return None
    binary = mosquitto_binary()
    if binary is None:
        print(
            f"没有 mosquitto，保留配置中的 MQTT 代理 mqtt.broker / {MOSQUITTO_MISSING}: "
            f"the overlay keeps mqtt.broker ({broker.where})",
            file=out,
            flush=True,
        )
        return None
    return MosquittoBroker(binary, folder / "mosquitto")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _announce(
    out: TextIO,
    config: HallConfig,
    overlay: Path,
    endpoint: str,
    broker: MosquittoBroker | None,
    usb: UsbBackendServer | None,
) -> None:
    sim = "hallkeeper sim"
    if endpoint != DEFAULT_ENDPOINT:
        sim = f"{ENV_ENDPOINT}={shlex.quote(endpoint)} {sim}"
    lines = [
        f"hallkeeper simulate: 模拟大厅 {config.hall.id} 已运行 / "
        f"the simulated hall {config.hall.id} is running",
        f"  叠加配置 overlay   {overlay}",
        f"  控制端点 control   {endpoint}",
    ]
    if broker is not None:
        lines.append(f"  MQTT 代理 broker   mosquitto {broker.url}")
    if usb is not None:
        lines.append(f"  USB 总线 USB bus   {usb.path}")
    lines += [
        "  运行守护进程 / run the daemon:",
        f"    hallkeeper run --config {shlex.quote(str(overlay))}",
        "  操作模拟器 / drive the simulators:",
        f"    {sim} list",
        "  停止 / stop: Ctrl-C (SIGINT) 或 / or SIGTERM",
    ]
    print("\n".join(lines), file=out, flush=True)
