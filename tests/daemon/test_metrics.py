"""/metrics of a running hall with a simulated bus, a printer and MQTT: what a
Prometheus scraper with a monitor token sees."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from daemon.bench.daemon_process import DaemonProcess
from daemon.tokens import Role, TokenFile
from simulators.control import request
from simulators.ports import free_port
from tests.conftest import small_hall, window_one_and_kiosk_one, write_config

pytestmark = pytest.mark.process

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: httpx.Client) -> Samples:
    reply = client.get("/metrics")
    assert reply.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def client(daemon: DaemonProcess, token: str) -> httpx.Client:
    return httpx.Client(base_url=daemon.base_url, headers={"Authorization": f"Bearer {token}"})


def settled(samples: Samples) -> bool:
    """The keypad has answered, the broker has every event, the loop lag was sampled,
    bus-1's echoing adapter is known."""
    keypad = {"device": "keypad-1", "kind": "caller-keypad", "state": "online"}
    return (
        value(samples, "hallkeeper_device_state", **keypad) == 1
        and value(samples, "hallkeeper_bus_local_echo", bus="bus-1") == 1
        and value(samples, "hallkeeper_mqtt_outbox_events") == 0
        and value(samples, "hallkeeper_loop_lag_sample_seconds_count") > 0
    )


def test_tickets_calls_devices_buses_outbox_loop_lag_and_commits(tmp_path: Path) -> None:
    document = small_hall(tmp_path) | {
        **window_one_and_kiosk_one("/dev/hallkeeper/bus-1", {"host": "192.0.2.1"}),
        "mqtt": {"broker": "embedded"},
    }
    config = write_config(tmp_path, document)
    _, admin = TokenFile(tmp_path / "secrets.yaml").add(Role.ADMIN)
    _, monitor = TokenFile(tmp_path / "secrets.yaml").add(Role.MONITOR)
    control = f"tcp://127.0.0.1:{free_port()}"
    daemon = DaemonProcess(config, args=["--simulate"], env={"HALLKEEPER_SIM_CONTROL": control})
    daemon.start()
    try:
        act = client(daemon, admin)
        request(control, "fault", target="bus-1", kind="echo")  # before the call's frames
        for _ in range(2):
            assert act.post("/api/v1/tickets", json={"service": "social"}).status_code == 201
        assert act.post("/api/v1/windows/1/call-next").status_code == 200
        watch = client(daemon, monitor)
        deadline = time.monotonic() + 15
        while True:
            samples = scrape(watch)
            if settled(samples) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        daemon.stop()
    assert value(samples, "hallkeeper_tickets_issued_total", service="social") == 2
    assert value(samples, "hallkeeper_calls_total", window="1", service="social") == 1
    assert value(samples, "hallkeeper_waiting", service="social") == 1
    assert value(samples, "hallkeeper_waiting_seconds_count", service="social") == 1
    keypad = {"device": "keypad-1", "kind": "caller-keypad"}
    assert value(samples, "hallkeeper_device_state", **keypad, state="online") == 1
    assert value(samples, "hallkeeper_device_state", **keypad, state="offline") == 0
    assert value(samples, "hallkeeper_device_frames_total", device="keypad-1", direction="in") > 0
    assert value(samples, "hallkeeper_device_frames_total", device="screen-1", direction="out") > 0
    assert value(samples, "hallkeeper_bus_up", bus="bus-1") == 1
    assert value(samples, "hallkeeper_bus_frames_total", bus="bus-1", direction="out") > 0
    assert value(samples, "hallkeeper_bus_local_echo", bus="bus-1") == 1
    assert value(samples, "hallkeeper_bus_low_latency", bus="bus-1") == 0  # a pty has no such mode
    # a frame can collide on a shared bus now and then: the counter is there, not 0
    assert ("hallkeeper_bus_errors_total", frozenset({("bus", "bus-1")})) in samples
    assert value(samples, "hallkeeper_mqtt_connected") == 1
    assert value(samples, "hallkeeper_mqtt_outbox_events") == 0
    assert value(samples, "hallkeeper_loop_lag_sample_seconds_count") > 0
    # two tickets and a call, each answered after its own commit
    assert value(samples, "hallkeeper_store_commit_seconds_count") >= 3
    assert value(samples, "hallkeeper_store_commit_seconds_sum") > 0
