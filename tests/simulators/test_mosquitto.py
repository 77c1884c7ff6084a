"""The simulated hall's MQTT broker: a real mosquitto that `sim fault broker down`
stops and `... ok` starts again on the same port, listed by `sim list`."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.control import ControlServer, request, sim_command
from simulators.mosquitto import MosquittoBroker, mosquitto_binary
from simulators.registry import SimRegistry


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def control(tmp_path: Path) -> Iterator[tuple[str, MosquittoBroker]]:
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    broker = MosquittoBroker(binary, tmp_path / "mosquitto")
    registry = SimRegistry()
    registry.add_broker(broker)
    server = ControlServer(registry, "tcp://127.0.0.1:*")
    broker.start()
    server.start()
    try:
        yield server.endpoint, broker
    finally:
        server.stop()
        broker.stop()


def test_broker_down_stops_it_and_ok_starts_it_again_on_the_same_port(
    control: tuple[str, MosquittoBroker],
) -> None:
    endpoint, broker = control
    assert accepts(broker.port)
    down = request(endpoint, "fault", target="broker", kind="down")
    assert down == {"ok": True, "target": "broker", "kind": "down", "faults": ["down"]}
    assert not accepts(broker.port)
    up = request(endpoint, "fault", target="broker", kind="ok", timeout=15)
    assert up["ok"] and up["faults"] == []
    assert accepts(broker.port)  # the answer came once it listens again


def test_sim_list_and_show_tell_where_the_broker_is_and_whether_it_is_down(
    control: tuple[str, MosquittoBroker],
) -> None:
    endpoint, broker = control
    request(endpoint, "fault", target="broker", kind="down")
    out = io.StringIO()
    assert sim_command(["--control", endpoint, "list"], stdout=out) == 0
    row = next(line.split() for line in out.getvalue().splitlines() if line.startswith("broker"))
    assert row == ["broker", "mqtt-broker", "mosquitto", "-", f"127.0.0.1:{broker.port}", "down"]
    shown = request(endpoint, "show", target="broker")["state"]
    assert shown["url"] == f"mqtt://127.0.0.1:{broker.port}" and shown["pid"] is None


def test_an_unknown_broker_fault_is_refused_with_the_ones_it_has(
    control: tuple[str, MosquittoBroker],
) -> None:
    endpoint, broker = control
    err = io.StringIO()
    assert sim_command(["--control", endpoint, "fault", "broker", "unplug"], stderr=err) == 1
    assert "supported: down, ok" in err.getvalue()
    assert accepts(broker.port)


def test_a_broker_started_again_in_its_folder_keeps_its_port_if_it_is_free(
    control: tuple[str, MosquittoBroker], tmp_path: Path
) -> None:
    _, broker = control
    assert MosquittoBroker(broker.binary, broker.folder).port != broker.port  # in use
    broker.stop()
    again = MosquittoBroker(broker.binary, broker.folder)
    assert again.port == broker.port
    again.start()
    try:
        assert accepts(again.port)
    finally:
        again.stop()
