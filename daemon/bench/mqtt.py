"""`hallkeeper bench mqtt`: events from the daemon's store to an MQTT
subscriber, through mosquitto (when installed) and the embedded broker.

Two figures per broker, from a daemon process on a scratch hall:
- sustained events per second: the daemon first stores a backlog of events
  with MQTT off, then starts with MQTT on and sends the whole backlog; the
  rate is what a subscriber receives, first event to last. The embedded
  broker starts with the daemon, so its subscriber can only connect once the
  daemon says where it listens, and the first events may have gone by then
  (a broker keeps no messages for a subscriber it has not met): they are
  counted as `sent_before_subscribed`, not timed;
- event-to-subscriber latency: tickets issued one at a time afterwards, from
  the event's time (`at`, when the daemon made it) to its arrival at the
  subscriber, both on this machine's clock.
Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml

from daemon.bench.core import issue_tickets, percentile, scratch_hall
from daemon.bench.daemon_process import DaemonProcess
from daemon.bench.http_load import Connection
from daemon.tokens import Role, TokenFile
from simulators.ports import free_port

TOPIC = "hallkeeper/bench-hall/event/#"
MOSQUITTO_CONFIG = "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
MOSQUITTO_CONFIG += "max_queued_messages 1000000\nmax_inflight_messages 1000\n"


class Subscriber:
    """Records each event's seq, its `at` and when it arrived."""

    def __init__(self, port: int) -> None:
        self.arrivals: dict[int, tuple[float, float]] = {}  # seq -> (at, arrived), first arrival
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._message
        self.client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        arrived = time.time()
        event = json.loads(message.payload)
        at = dt.datetime.fromisoformat(event["at"]).timestamp()
        with self._lock:
            self.arrivals.setdefault(event["seq"], (at, arrived))

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def last_seq(self) -> int:
        with self._lock:
            return max(self.arrivals, default=0)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def hall_with_mqtt(folder: Path, broker: str | None) -> Path:
    """The core bench's scratch hall, with MQTT on `broker` (None: off)."""
    config = scratch_hall(folder)
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["hall"]["id"] = "bench-hall"
    document.pop("mqtt", None)
    if broker is not None:
        document["mqtt"] = {"broker": broker, "health_seconds": 60}
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return config


def wait_for(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def settled(subscriber: Subscriber, quiet: float = 1.0) -> None:
    """Wait until nothing has arrived for `quiet` seconds."""
    last = -1
    while subscriber.count() != last:
        last = subscriber.count()
        time.sleep(quiet)


async def one_at_a_time(base_url: str, token: str, count: int) -> None:
    connection = await Connection.open(base_url)
    try:
        for _ in range(count):
            await connection.request("POST", "/api/v1/tickets", token, {"service": "service-a"})
            await asyncio.sleep(0.01)
    finally:
        await connection.close()


def through(broker: str, backlog: int, latency_events: int) -> dict[str, Any]:
    """One broker: `mosquitto` or `embedded`."""
    with tempfile.TemporaryDirectory(prefix="hallkeeper-bench-mqtt-") as scratch:
        folder = Path(scratch)
        _, token = TokenFile(folder / "secrets.yaml").add(Role.ADMIN)
        mosquitto = None
        port = free_port()
        if broker == "mosquitto":
            (folder / "mosquitto.conf").write_text(MOSQUITTO_CONFIG.format(port=port))
            mosquitto = subprocess.Popen(
                [shutil.which("mosquitto") or "mosquitto", "-c", str(folder / "mosquitto.conf")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        try:
            # the backlog, stored while MQTT is off
            daemon = DaemonProcess(hall_with_mqtt(folder, None)).start()
            try:
                asyncio.run(issue_tickets(daemon.base_url, token, backlog, 16))
            finally:
                daemon.stop()
            url = f"mqtt://127.0.0.1:{port}" if mosquitto else "embedded"
            subscriber = None
            if mosquitto is not None:
                subscriber = Subscriber(port)
            daemon = DaemonProcess(hall_with_mqtt(folder, url)).start()
            try:
                if subscriber is None:
                    announced = "".join(daemon.output)
                    embedded_port = int(announced.split("mqtt    mqtt://127.0.0.1:")[1].split()[0])
                    subscriber = Subscriber(embedded_port)
                wait_for(lambda: subscriber.last_seq() >= backlog, 120)  # seqs start at 1
                settled(subscriber)  # the start-up events after the backlog too
                received = sorted(arrived for _, arrived in subscriber.arrivals.values())
                drained = len(received)
                seqs = sorted(subscriber.arrivals)
                first_seq, last_seq = (seqs[0], seqs[-1]) if seqs else (1, 0)
                rate = (drained - 1) / (received[-1] - received[0]) if drained > 1 else 0.0
                before = set(subscriber.arrivals)
                asyncio.run(one_at_a_time(daemon.base_url, token, latency_events))
                wait_for(lambda: subscriber.count() >= len(before) + latency_events, 30)
                latencies = [
                    (arrived - at) * 1000
                    for seq, (at, arrived) in subscriber.arrivals.items()
                    if seq > max(before)
                ]
                subscriber.close()
            finally:
                daemon.stop()
        finally:
            if mosquitto is not None:
                mosquitto.terminate()
                mosquitto.wait(10)
    return {
        "events_per_second": round(rate, 1),
        "backlog": backlog,
        "backlog_received": drained,
        "sent_before_subscribed": first_seq - 1,
        "missing": last_seq - first_seq + 1 - drained,  # seqs lost between first and last
        "event_to_subscriber_ms": {
            "p50": round(percentile(latencies, 0.5), 2),
            "p99": round(percentile(latencies, 0.99), 2),
        }
        if latencies
        else None,
        "latency_events": len(latencies),
    }


def run_mqtt_bench(backlog: int, latency_events: int) -> dict[str, Any]:
    result: dict[str, Any] = {"bench": "mqtt"}
    if shutil.which("mosquitto"):
        result["mosquitto"] = through("mosquitto", backlog, latency_events)
    else:
        result["mosquitto"] = None
        result["note"] = "mosquitto is not installed (apt-get install mosquitto, or make test)"
    result["embedded"] = through("embedded", backlog, latency_events)
    print(json.dumps(result))
    return result
