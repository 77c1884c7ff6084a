"""The hall on MQTT, against the embedded broker and a real mosquitto: events
from the outbox across broker outages, retained state, MQTT devices."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.hardware import Hardware
from daemon.mqtt.bridge import MqttBridge
from daemon.mqtt.broker import BrokerUrl
from daemon.router import Router
from daemon.runtime import DaemonInfo
from daemon.store.store import Store
from devices.bus_device import DeviceContext
from tests.mqtt_brokers import Client, StartMosquitto, until

pytestmark = pytest.mark.anyio
ROOT = "hallkeeper/test-hall/"
DEVICES = [
    {"id": "mq-screen-1", "model": "mqtt-display", "window": 1},
    {"id": "mq-keypad-1", "model": "mqtt-keypad", "window": 1},
    {"id": "mq-pad-1", "model": "mqtt-pad", "window": 1, "timeout_seconds": 5},
]


@dataclass
class Running:
    hall: Hall
    bridge: MqttBridge

    async def tickets(self, count: int) -> None:
        for _ in range(count):
            await self.hall.issue("social")


StartHall = Callable[[BrokerUrl], contextlib.AbstractAsyncContextManager[Running]]


@pytest.fixture
def start_hall(make_config: Callable[..., HallConfig]) -> StartHall:
    @contextlib.asynccontextmanager
    async def start(broker: BrokerUrl) -> AsyncIterator[Running]:
        config = make_config(devices=DEVICES)
        store = Store(config.storage.path, config.hall.id)
        hall = Hall(config, store)
        router = Router(hall)
        loop = asyncio.get_running_loop()
        context = DeviceContext(loop, hall.now, router.handle, config.texts, "zh")
        hardware = Hardware(config, context)
        info = DaemonInfo(started_at=hall.now(), devices=hardware.health)
        await hall.start(day_timer=False)
        router.start(hardware)
        bridge = MqttBridge(broker, "hallkeeper/test-hall", store, info, health_seconds=0.2)
        bridge.attach(hardware.mqtt_devices)
        hall.subscribe(bridge.events_committed)
        await bridge.start()
        try:
            await until(lambda: bridge.connected, what="the bridge connected")
            yield Running(hall, bridge)
        finally:
            await bridge.stop()
            await hall.stop()
            store.close()

    return start


def seqs(client: Client) -> list[int]:
    return [json.loads(m.payload)["seq"] for m in client.received() if "/event/" in m.topic]


async def outage_loses_nothing(running: Running, broker: BrokerUrl, restart: Any) -> None:
    """Tickets before, during and after the broker is away, under load: every
    event after the last one the broker acknowledged before it went arrives.
    (What a broker acknowledged and then lost with its memory is the broker's:
    the bridge cannot know of it.)"""
    hall, bridge = running.hall, running.bridge
    await until(lambda: bridge.outbox.acked == hall.last_seq, what="the start-up events out")
    first = hall.last_seq + 1
    watcher = Client(broker)
    await watcher.connect()
    await watcher.subscribe(ROOT + "event/#")
    await running.tickets(50)
    await until(lambda: len(seqs(watcher)) >= 50, what="the first events")

    issuing = asyncio.create_task(running.tickets(200))  # under load
    await asyncio.sleep(0.05)
    await restart()
    # acknowledgements stop with the connection; the bridge reconnects after 1 s at the earliest
    await until(lambda: not bridge.connected, what="the bridge to see the outage")
    acked_before = bridge.outbox.acked
    await watcher.reconnected()
    await watcher.subscribe(ROOT + "event/#")
    await issuing
    last = hall.last_seq
    assert acked_before < last, "the outage came under load"
    wanted = set(range(max(first, acked_before + 1), last + 1))
    try:
        await until(lambda: set(seqs(watcher)) >= wanted, 15, "every event")
    except AssertionError:
        missing = sorted(wanted - set(seqs(watcher)))
        box = running.bridge.outbox
        raise AssertionError(
            f"missing {missing[:20]}... ({len(missing)}); acked {box.acked} sent {box.sent} "
            f"in flight {box.in_flight} connected {running.bridge.connected} last {last}"
        ) from None
    assert set(range(first, 50 + first)) <= set(seqs(watcher)), "those before the outage"
    await until(lambda: bridge.outbox.acked == last, what="every event acknowledged")
    assert int(hall.store.get_meta("mqtt.acked_seq") or 0) <= last
    await watcher.close()


async def test_a_broker_outage_loses_no_event_embedded(
    start_hall: StartHall, embedded_broker: Any
) -> None:
    from daemon.mqtt.broker import EmbeddedBroker

    port = embedded_broker.port
    brokers = [embedded_broker]

    async def restart() -> None:
        await brokers[-1].stop()
        fresh = EmbeddedBroker(port=port)
        await fresh.start()
        brokers.append(fresh)

    async with start_hall(embedded_broker.url) as running:
        try:
            await outage_loses_nothing(running, embedded_broker.url, restart)
        finally:
            for broker in brokers[1:]:
                await broker.stop()


async def test_mosquitto_killed_under_load_loses_no_event(
    start_hall: StartHall, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto()

    async def restart() -> None:
        await asyncio.to_thread(broker.restart)

    async with start_hall(broker.url) as running:
        await outage_loses_nothing(running, broker.url, restart)


async def test_retained_state_is_published_again_after_a_reconnect(
    start_hall: StartHall, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto()
    async with start_hall(broker.url) as running:
        await asyncio.to_thread(broker.restart)  # no persistence: retained state is gone
        await until(lambda: running.bridge.connected, 10, what="the bridge back")
        late = Client(broker.url)
        await late.connect()
        await late.subscribe(ROOT + "#")
        state = await late.wait_for(ROOT + "bridge/state", timeout=10)
        assert json.loads(state[0].payload) == {"state": "online", "session": 1}
        assert state[0].retain
        availability = await late.wait_for(ROOT + "device/mq-pad-1/availability", timeout=10)
        assert json.loads(availability[0].payload)["state"] == "offline"
        await late.wait_for(ROOT + "bridge/health", timeout=10)
        await late.close()


async def test_an_mqtt_pads_rating_reaches_the_store(
    start_hall: StartHall, embedded_broker: Any
) -> None:
    async with start_hall(embedded_broker.url) as running:
        hall = running.hall
        pad = Client(
            embedded_broker.url,
            will=(ROOT + "device/mq-pad-1/report", b'{"type": "gone"}', 1, False),
        )
        await pad.connect()
        await pad.subscribe(ROOT + "device/mq-pad-1/set")
        await pad.publish_acked(ROOT + "device/mq-pad-1/report", '{"type": "hello"}')
        await hall.perform(hall.engine.sign_in, 1, "s1")
        ticket = await hall.issue("social")
        await hall.perform(hall.engine.call_next, 1)
        await hall.perform(hall.engine.complete, 1, None)

        [prompt] = await pad.wait_for(ROOT + "device/mq-pad-1/set")
        assert json.loads(prompt.payload) == {"type": "prompt", "ticket": ticket.code, "timeout": 5}
        await pad.publish_acked(ROOT + "device/mq-pad-1/report", '{"type": "rating", "level": 2}')

        ratings = await until(lambda: hall.store.ratings_of(hall.committed.day), what="stored")
        assert (ratings[0].ticket, ratings[0].window, ratings[0].clerk, ratings[0].level) == (
            ticket.code,
            1,
            "s1",
            2,
        )
        device = running.bridge.devices["mq-pad-1"]
        assert device.health().state == "online"
        await pad.drop()  # the cable is pulled: the broker publishes its will
        await until(lambda: device.health().state == "offline", what="its will seen")
        assert "last will" in (device.health().reason or "")


async def test_an_mqtt_keypad_calls_and_its_display_shows_the_call(
    start_hall: StartHall, embedded_broker: Any
) -> None:
    async with start_hall(embedded_broker.url) as running:
        hall = running.hall
        device = Client(embedded_broker.url)
        await device.connect()
        await device.subscribe(ROOT + "device/+/set")
        await hall.perform(hall.engine.sign_in, 1, "s1")
        ticket = await hall.issue("social")
        await device.publish_acked(
            ROOT + "device/mq-keypad-1/report", '{"type": "key", "key": "call"}'
        )
        await until(lambda: hall.committed.windows[1].current == ticket.code, what="the call")

        def shown() -> list[dict[str, Any]]:
            return [json.loads(p) for p in device.payloads(ROOT + "device/mq-screen-1/set")]

        calls = await until(
            lambda: [s for s in shown() if s["ticket"] == ticket.code], what="shown"
        )
        assert calls[-1]["text"]["zh"] == f"请{ticket.code}号到1号窗口"
        keypad = ROOT + "device/mq-keypad-1/set"
        showing = {"type": "show", "waiting": 0, "ticket": ticket.code}
        await until(
            lambda: showing in [json.loads(p) for p in device.payloads(keypad)],
            what="the keypad showing the call",
        )
        await device.close()
