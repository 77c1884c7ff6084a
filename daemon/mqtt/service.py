"""The hall's MQTT side as the daemon runs it: the embedded broker when the
config asks for it, and the bridge with the hall's events and devices."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.mqtt.bridge import MqttBridge
from daemon.mqtt.broker import Embedded, EmbeddedBroker, parse_broker
from daemon.runtime import DaemonInfo
from devices.mqtt_devices import MqttDevice

log = logging.getLogger(__name__)


@dataclass
class MqttService:
    bridge: MqttBridge
    broker: EmbeddedBroker | None

    async def stop(self) -> None:
        await self.bridge.stop()
        if self.broker is not None:
            await self.broker.stop()


async def start_mqtt(
    config: HallConfig, hall: Hall, info: DaemonInfo, devices: dict[str, MqttDevice]
) -> MqttService | None:
    if config.mqtt is None:
        return None
    target = parse_broker(config.mqtt.broker, config.mqtt.ca_file)
    embedded = None
    if isinstance(target, Embedded):
        embedded = EmbeddedBroker()
        await embedded.start()
        target = embedded.url
    bridge = MqttBridge(
        target,
        f"{config.mqtt.prefix}/{config.hall.id}",
        hall.store,
        info,
        config.mqtt.health_seconds,
    )
    bridge.attach(devices)
    hall.subscribe(bridge.events_committed)
    await bridge.start()
    info.mqtt_outbox = bridge.outbox_state
    info.mqtt = f"{target.where}{' (embedded)' if embedded else ''}, topics {bridge.root}#"
    return MqttService(bridge, embedded)
