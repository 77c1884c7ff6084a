"""`hallkeeper simulate` and a daemon as separate processes, as in production:
the daemon runs unchanged on the overlay config, is killed and started again,
and the simulated hall (and its broker) stays up throughout."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
import yaml
import zmq

from daemon.bench.daemon_process import DaemonProcess
from daemon.config.loader import load_config
from daemon.mqtt.broker import BrokerUrl, parse_broker
from daemon.simulate.process import SimulateProcess
from daemon.tokens import Role, TokenFile
from simulators.mosquitto import mosquitto_binary
from tests.conftest import write_config
from tests.daemon.simulate.halls import hall_document
from tests.waiting import wait_for

pytestmark = pytest.mark.process


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[SimulateProcess]:
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    config = write_config(tmp_path, hall_document(tmp_path))
    process = SimulateProcess(config, tmp_path / "sim").start()
    try:
        yield process
    finally:
        process.stop()


def printed(simulate: SimulateProcess, printer: str, code: str) -> bool:
    ticket = simulate.request("show", target=printer)["state"]["ticket"]
    return ticket is not None and ticket["cut"] and any(code in line for line in ticket["lines"])


def shown(simulate: SimulateProcess, screen: str) -> str:
    return str(simulate.request("show", target=screen)["state"]["text"])


def issue(api: httpx.Client, kiosk: str) -> str:
    ticket = api.post("/api/v1/tickets", json={"service": "social", "kiosk": kiosk})
    assert ticket.status_code == 201, ticket.text
    return str(ticket.json()["code"])


def call_flow(simulate: SimulateProcess, daemon: DaemonProcess, token: str) -> None:
    """A kiosk ticket printed on the USB printer, called by the keypad, shown on the screen."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=daemon.base_url, headers=headers, timeout=10) as api:
        code = issue(api, "kiosk-1")
        wait_for(lambda: printed(simulate, "kiosk-1-printer", code), what=f"{code} printed")
        pressed = simulate.request("press", keypad="keypad-1", key="call")
        assert pressed["ok"] and pressed["sent"]
        wait_for(lambda: code in shown(simulate, "screen-1"), what=f"{code} on screen-1")
        assert api.get(f"/api/v1/tickets/{code}").json()["state"] == "called"


def device_state(daemon: DaemonProcess, token: str, device: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    health = httpx.get(f"{daemon.base_url}/api/v1/health", headers=headers, timeout=10).json()
    return str(next(d["state"] for d in health["devices"] if d["id"] == device))


def retained(broker: BrokerUrl, topic: str, timeout: float = 10.0) -> dict[str, Any] | None:
    """The retained message on `topic` (None if the broker cannot be reached)."""
    got: list[bytes] = []
    arrived = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda c, u, message: (got.append(message.payload), arrived.set())
    try:
        client.connect(broker.host, broker.port, keepalive=10)
    except OSError:
        return None
    client.loop_start()
    try:
        arrived.wait(timeout)
    finally:
        client.loop_stop()
        client.disconnect()
    return json.loads(got[0]) if got else None


def test_the_daemon_is_killed_and_restarted_while_the_simulated_hall_stays_up(
    simulated: SimulateProcess,
) -> None:
    overlay = load_config(simulated.overlay)
    broker = parse_broker(overlay.mqtt.broker if overlay.mqtt else "")
    assert isinstance(broker, BrokerUrl) and broker.host == "127.0.0.1"
    _, token = TokenFile(overlay.secrets).add(Role.ADMIN)
    daemon = DaemonProcess(simulated.overlay).start()
    try:
        with httpx.Client(base_url=daemon.base_url) as api:
            signed = api.post(
                "/api/v1/windows/1/sign-in",
                json={"staff": "s1"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert signed.status_code == 200, signed.text
        call_flow(simulated, daemon, token)
        daemon.kill()
        assert daemon.process is not None and daemon.process.returncode == -9

        daemon = DaemonProcess(simulated.overlay).start()
        call_flow(simulated, daemon, token)
        state = f"hallkeeper/{overlay.hall.id}/bridge/state"
        assert wait_for(lambda: (retained(broker, state) or {}).get("state") == "online")

        down = simulated.request("fault", target="broker", kind="down")
        assert down["ok"] and down["faults"] == ["down"]
        assert retained(broker, state) is None  # nobody listens on the broker's port
        listed = {d["id"]: d for d in simulated.request("list")["devices"]}
        assert listed["broker"]["faults"] == ["down"]

        up = simulated.request("fault", target="broker", kind="ok")
        assert up["ok"] and up["faults"] == []
        # the broker came back empty: the daemon reconnected and said it is online again
        assert wait_for(lambda: (retained(broker, state) or {}).get("state") == "online")
    finally:
        daemon.stop()


@contextlib.contextmanager
def daemon_on(
    simulated: SimulateProcess,
) -> Iterator[tuple[DaemonProcess, str, httpx.Client]]:
    """The daemon on the overlay, an admin token and an API client; the daemon
    must stop cleanly at the end."""
    overlay = load_config(simulated.overlay)
    _, token = TokenFile(overlay.secrets).add(Role.ADMIN)
    daemon = DaemonProcess(simulated.overlay).start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=daemon.base_url, headers=headers, timeout=10) as api:
            yield daemon, token, api
    finally:
        assert daemon.stop() == 0


def test_the_simulated_hall_going_away_unplugs_its_devices_for_the_daemon(
    simulated: SimulateProcess,
) -> None:
    with daemon_on(simulated) as (daemon, token, api):
        code = issue(api, "kiosk-2")
        wait_for(lambda: printed(simulated, "kiosk-2-printer", code), what="on TCP")
        wait_for(lambda: device_state(daemon, token, "kiosk-1-printer") == "online")
        assert simulated.process is not None
        simulated.process.kill()  # as a crash would
        wait_for(lambda: device_state(daemon, token, "kiosk-1-printer") == "offline")
        assert api.get("/healthz").status_code == 200


def becomes(daemon: DaemonProcess, token: str, device: str, state: str) -> None:
    wait_for(lambda: device_state(daemon, token, device) == state, 30, f"{device} {state}")


def tcp_entries(overlay: Path) -> dict[str, Any]:
    document = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    return {entry["id"]: entry["tcp"] for entry in document["devices"] if "tcp" in entry}


def test_a_simulated_hall_started_again_is_found_by_the_running_daemon(
    simulated: SimulateProcess,
) -> None:
    before = tcp_entries(simulated.overlay)
    with daemon_on(simulated) as (daemon, token, api):
        becomes(daemon, token, "terminal-1", "online")
        assert simulated.process is not None
        simulated.process.kill()  # as a crash would
        for device in ("kiosk-2-printer", "terminal-1"):
            becomes(daemon, token, device, "offline")

        simulated.start()  # same folder; the daemon is not told
        assert tcp_entries(simulated.overlay) == before
        for device in ("kiosk-2-printer", "terminal-1"):
            becomes(daemon, token, device, "online")
        code = issue(api, "kiosk-2")
        wait_for(lambda: printed(simulated, "kiosk-2-printer", code), what=f"{code} on TCP")


def test_a_taken_control_endpoint_is_a_clear_error_and_no_overlay_is_written(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, hall_document(tmp_path))
    with zmq.Context() as context, context.socket(zmq.REP) as taken:
        port = taken.bind_to_random_port("tcp://127.0.0.1")
        simulate = SimulateProcess(config, tmp_path / "sim", f"tcp://127.0.0.1:{port}")
        with pytest.raises(RuntimeError, match="did not start") as failed:
            simulate.start()
    assert simulate.process is not None and simulate.process.returncode == 1
    assert f"cannot bind the simulator control endpoint tcp://127.0.0.1:{port}" in str(failed.value)
    assert not simulate.overlay.exists()
