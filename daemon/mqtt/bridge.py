"""The hall on MQTT (DESIGN.md "MQTT layout"), under `<prefix>/<hall>/`:

- `bridge/state`, retained: online with a session number that grows with
  every start; the last will says offline with the same session.
- `bridge/health`, retained: uptime, loop lag, devices by state.
- `device/<id>/availability` and `device/<id>/state`, retained, on change.
- `event/<type>`, QoS 1, never retained: every event from the store, in seq
  order, from just after the last one the broker acknowledged (`Outbox`), so
  a broker outage or a daemon restart skips none.

paho-mqtt's network loop runs in its own thread; everything else is on the
event loop, fed by `call_soon_threadsafe`. After every reconnect the
retained documents the daemon keeps are published again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import paho.mqtt.client as mqtt

from daemon.mqtt.broker import BrokerUrl
from daemon.mqtt.outbox import Outbox
from daemon.runtime import DaemonInfo
from daemon.store.store import Store
from devices.health import DeviceHealth
from devices.mqtt_devices import MqttDevice

log = logging.getLogger(__name__)

BATCH = 500  # events read from the store at a time
MAX_IN_FLIGHT = 1000  # QoS 1 messages not yet acknowledged
ACKED_KEY = "mqtt.acked_seq"
SESSION_KEY = "mqtt.session"


class MqttBridge:
    def __init__(
        self,
        broker: BrokerUrl,
        prefix: str,
        store: Store,
        info: DaemonInfo,
        health_seconds: float = 10.0,
    ) -> None:
        self.broker = broker
        self.root = prefix.rstrip("/") + "/"
        self.store = store
        self.info = info
        self.health_seconds = health_seconds
        self.session = 0  # read, and counted up, at `start`
        self.outbox = Outbox(0)
        self.retained: dict[str, bytes] = {}  # topic -> payload, republished on reconnect
        self.devices: dict[str, MqttDevice] = {}
        self.connected = False
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._saved_acked = 0
        self.client = self._client()

    # -- lifecycle -----------------------------------------------------------------

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"hallkeeper-{self.root.strip('/').replace('/', '-')}",
            clean_session=True,
        )
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set(
                ca_certs=str(self.broker.ca_file) if self.broker.ca_file else None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.max_inflight_messages_set(MAX_IN_FLIGHT)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    async def start(self) -> None:
        await asyncio.to_thread(self._load)
        will = self._state("offline")  # names this start's session
        self.client.will_set(self._topic("bridge/state"), will, qos=1, retain=True)
        self._loop = asyncio.get_running_loop()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        self._tasks = [
            asyncio.create_task(self._pump(), name="mqtt-events"),
            asyncio.create_task(self._publish_health(), name="mqtt-health"),
        ]

    async def stop(self) -> None:
        """Say offline (the will is for a daemon that dies), then disconnect."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self.connected:
            info = self.client.publish(
                self._topic("bridge/state"), self._state("offline"), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):  # the broker went first
                await asyncio.to_thread(info.wait_for_publish, 2.0)
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)
        await asyncio.to_thread(self._save_acked)

    def attach(self, devices: dict[str, MqttDevice]) -> None:
        """MQTT devices: their reports come in here, their commands go out here."""
        self.devices = devices
        for device in devices.values():
            device.publish = self.publish_set

    def publish_set(self, device: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        self.client.publish(self._topic(f"device/{device}/set"), body, qos=1)

    def _load(self) -> None:
        """The session number of this start, and the last event the broker has."""
        self.session = int(self.store.get_meta(SESSION_KEY) or 0) + 1
        self.store.set_meta(SESSION_KEY, str(self.session))
        self.outbox = Outbox(int(self.store.get_meta(ACKED_KEY) or 0))
        self._saved_acked = self.outbox.acked

    def events_committed(self, events: object) -> None:
        """Called on the loop with each committed batch: there is more to send."""
        self._wake.set()

    # -- paho's thread -------------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.broker.where, reason)
            return
        self._call(self._connected)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._call(self._disconnected, str(reason))

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        self._call(self._acknowledged, mid)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        """A device's report: `<root>device/<id>/report`."""
        device_id = message.topic.removeprefix(self._topic("device/")).removesuffix("/report")
        try:
            payload = json.loads(message.payload)
        except ValueError:
            payload = None
        self._call(self._report, device_id, payload, message.payload[:200])

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)

    # -- on the loop ---------------------------------------------------------------

    def _connected(self) -> None:
        log.info("MQTT connected to %s (session %d)", self.broker.where, self.session)
        self.connected = True
        self.outbox.lost_connection()  # a new session: resend what was not acknowledged
        self.client.subscribe(self._topic("device/+/report"), qos=1)
        self._retain("bridge/state", self._state("online"))
        for topic, payload in self.retained.items():
            self.client.publish(topic, payload, qos=1, retain=True)
        self._wake.set()

    def _report(self, device_id: str, payload: Any, raw: bytes) -> None:
        device = self.devices.get(device_id)
        if device is None:
            log.warning("MQTT report from %s, which is no MQTT device in the config", device_id)
        elif not isinstance(payload, dict):
            device.counters.errors += 1
            log.warning("MQTT device %s: a report that is not a JSON object: %r", device_id, raw)
        else:
            device.report(payload)

    def _disconnected(self, reason: str) -> None:
        if self.connected and not self._stopping:
            log.warning("MQTT lost the broker %s: %s", self.broker.where, reason)
        self.connected = False
        self.outbox.lost_connection()

    def _acknowledged(self, mid: int) -> None:
        if self.outbox.acknowledged(mid):
            self._wake.set()

    async def _pump(self) -> None:
        """Publish stored events after the last acknowledged one, in seq order."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.outbox.acked - self._saved_acked >= BATCH or not self.outbox.in_flight:
                await asyncio.to_thread(self._save_acked)
            while self.connected and self.outbox.in_flight < MAX_IN_FLIGHT:
                room = min(BATCH, MAX_IN_FLIGHT - self.outbox.in_flight)
                events = await asyncio.to_thread(self.store.events_after, self.outbox.sent, room)
                if not events or not self.connected:
                    break
                for event in events:
                    if event["seq"] != self.outbox.sent + 1:
                        break  # the connection was lost and reset while we read
                    payload = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                    info = self.client.publish(
                        self._topic(f"event/{event['type']}"), payload, qos=1
                    )
                    self.outbox.published(event["seq"], info.mid)

    def _save_acked(self) -> None:
        acked = self.outbox.acked
        if acked != self._saved_acked:
            self.store.set_meta(ACKED_KEY, str(acked))
            self._saved_acked = acked

    async def _publish_health(self) -> None:
        while True:
            self.publish_devices(self.info.devices())
            self._retain("bridge/health", json.dumps(self._health(), ensure_ascii=False).encode())
            await asyncio.sleep(self.health_seconds)

    def publish_devices(self, devices: list[DeviceHealth]) -> None:
        """Retained availability and state of each device, when they change."""
        for device in devices:
            document = json.loads(json.dumps(asdict(device), default=_json_value))
            availability = {k: document[k] for k in ("state", "reason", "since")}
            self._retain(f"device/{device.id}/availability", json.dumps(availability).encode())
            self._retain(
                f"device/{device.id}/state", json.dumps(document, ensure_ascii=False).encode()
            )

    def outbox_state(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "acked": self.outbox.acked,
            "in_flight": self.outbox.in_flight,
        }

    def forget_devices(self, device_ids: list[str]) -> None:
        """Clear the retained documents of devices no longer in the config."""
        for device in device_ids:
            for topic in (f"device/{device}/availability", f"device/{device}/state"):
                full = self._topic(topic)
                if self.retained.pop(full, None) is not None and self.connected:
                    self.client.publish(full, b"", qos=1, retain=True)

    def _health(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for device in self.info.devices():
            counts[device.state] = counts.get(device.state, 0) + 1
        return {
            "session": self.session,
            "uptime_seconds": round(time.monotonic() - self.info.started_monotonic, 1),
            "loop_lag_ms": round(self.info.loop_lag_ms, 2),
            "devices": counts,
            "events_acked": self.outbox.acked,
        }

    def _retain(self, topic: str, payload: bytes) -> None:
        full = self._topic(topic)
        if self.retained.get(full) == payload:
            return
        self.retained[full] = payload
        if self.connected:
            self.client.publish(full, payload, qos=1, retain=True)

    def _topic(self, topic: str) -> str:
        return self.root + topic

    def _state(self, state: str) -> bytes:
        return json.dumps({"state": state, "session": self.session}).encode()


def _json_value(value: object) -> object:
    """Datetimes as ISO 8601 with their offset, like the event documents."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
