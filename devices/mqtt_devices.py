"""Devices that speak MQTT: window displays, caller keypads and evaluation pads.

A device listens on `device/<id>/set` and speaks on `device/<id>/report`
(JSON, QoS 1, never retained), under the hall's MQTT prefix. It says
`{"type": "hello"}` when it connects and sets its last will to
`{"type": "gone"}` on its report topic; the daemon turns both into the
device's retained availability.

What the daemon sends (`set`):
- display: `{"type": "window", "window": 3, "status": "open", "ticket": "A001",
  "text": {"zh": "请A001号到3号窗口", "en": "..."}, "recall": false}`
- keypad: `{"type": "show", "waiting": 4, "ticket": "A001"}`, `{"type": "beep"}`
- pad: `{"type": "prompt", "ticket": "A001", "timeout": 30}`, `{"type": "thanks", "level": 1}`

What devices report:
- keypad: `{"type": "key", "key": "call"}`; key is one of call, recall, rate,
  pause, transfer (with `"window": N`), skip, hold, callback
- pad: `{"type": "rating", "level": 1}` (1 非常满意 ... 5 非常不满意), for the
  ticket it was prompted for; no rating within the timeout is stored as unrated
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import Field

from devices.bus_device import DeviceContext
from devices.config import Slug, Strict
from devices.events import KeypadAction, KeyPressed, RatingEntered, WindowView
from devices.health import DeviceCounters, DeviceHealth, DeviceState, HealthTracker

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], None]  # (device id, payload) -> device/<id>/set


class MqttDeviceConfig(Strict):
    id: Slug
    model: str
    window: int = Field(ge=1, description="The window it belongs to.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Pads: rating timeout.")


class MqttDevice:
    kind: ClassVar[str]

    def __init__(self, config: MqttDeviceConfig, context: DeviceContext) -> None:
        self.config = config
        self.context = context
        self.tracker = HealthTracker(config.id, self.kind, config.model, "mqtt", context.clock)
        self.counters = DeviceCounters()
        self.publish: Publish | None = None  # set by the MQTT bridge

    @property
    def id(self) -> str:
        return self.config.id

    def report(self, payload: dict[str, Any]) -> None:
        """A message on device/<id>/report (on the loop)."""
        self.counters.frames_in += 1
        kind = payload.get("type")
        if kind == "gone":
            self.tracker.set(DeviceState.OFFLINE, "its MQTT last will: connection lost")
            return
        self.tracker.seen()
        self.tracker.set(DeviceState.ONLINE, None)
        if kind != "hello" and not self.on_report(payload):
            self.counters.errors += 1
            log.warning("MQTT device %s: a report it cannot send: %s", self.id, payload)

    def on_report(self, payload: dict[str, Any]) -> bool:
        """Handle a report; False if it is not one this kind of device sends."""
        return False

    def send(self, payload: dict[str, Any]) -> None:
        if self.publish is not None:
            self.counters.frames_out += 1
            self.publish(self.id, payload)

    def health(self) -> DeviceHealth:
        health = self.tracker.health
        health.counters = self.counters
        health.details = {"window": self.config.window}
        return health


class MqttDisplay(MqttDevice):
    kind = "window-display"

    def show(self, view: WindowView, recall: bool = False) -> None:
        texts, values = self.context.texts, {"window": view.number}
        if view.status != "open":
            key = view.status
        elif view.ticket is not None:
            key, values = "call", {**values, "ticket": view.ticket}
        else:
            key = "idle"
        template = getattr(texts, key)
        text = {lang: t.format_map({**values, "reason": view.reason or ""})
                for lang, t in template.items()}  # fmt: skip
        self.send(
            {
                "type": "window",
                "window": view.number,
                "status": view.status,
                "ticket": view.ticket,
                "text": text,
                "recall": recall,
            }
        )


class MqttKeypad(MqttDevice):
    kind = "caller-keypad"

    def show(self, view: WindowView) -> None:
        self.send({"type": "show", "waiting": view.waiting, "ticket": view.ticket})

    def beep(self) -> None:
        self.send({"type": "beep"})

    def on_report(self, payload: dict[str, Any]) -> bool:
        if payload.get("type") != "key":
            return False
        try:
            action = KeypadAction(payload.get("key"))
        except ValueError:
            return False
        target = payload.get("window")
        if action is KeypadAction.TRANSFER and not isinstance(target, int):
            return False
        self.context.emit(KeyPressed(self.id, self.config.window, action, target))
        return True


class MqttPad(MqttDevice):
    kind = "evaluation-pad"

    def __init__(self, config: MqttDeviceConfig, context: DeviceContext) -> None:
        super().__init__(config, context)
        self.prompted_for: str | None = None
        self._timeout: asyncio.TimerHandle | None = None

    def prompt(self, ticket: str | None) -> None:
        self._end_prompt()
        self.prompted_for = ticket
        self.send({"type": "prompt", "ticket": ticket, "timeout": self.config.timeout_seconds})
        self._timeout = self.context.loop.call_later(self.config.timeout_seconds, self._timed_out)

    def on_report(self, payload: dict[str, Any]) -> bool:
        level = payload.get("level")
        if payload.get("type") != "rating" or level not in (1, 2, 3, 4, 5):
            return False
        ticket = self.prompted_for
        self._end_prompt()
        self.send({"type": "thanks", "level": level})
        self.context.emit(RatingEntered(self.id, self.config.window, ticket, level))
        return True

    def _timed_out(self) -> None:
        ticket, self._timeout, self.prompted_for = self.prompted_for, None, None
        self.context.emit(RatingEntered(self.id, self.config.window, ticket, None))

    def _end_prompt(self) -> None:
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None
        self.prompted_for = None
