"""What every device on an RS-485 bus shares: its endpoint on the bus master,
the hop from the bus thread to the event loop, and its health."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from devices.config import BusDeviceConfig, Texts
from devices.events import DeviceEvent
from devices.health import DeviceCounters, DeviceHealth, DeviceState, HealthTracker
from drivers.bus import BusMaster, Command, Endpoint
from drivers.ff68.codec import Frame

MISSES_TO_OFFLINE = 3


@dataclass(frozen=True)
class DeviceContext:
    """What a device needs from the hall around it."""

    loop: asyncio.AbstractEventLoop
    clock: Callable[[], dt.datetime]
    emit: Callable[[DeviceEvent], None]  # called on the loop
    texts: Texts
    language: str  # the hall's first language


class BusDevice:
    """A device on a bus. Subclasses say whether it answers commands (so the
    master can tell it is silent), and handle the frames it sends."""

    kind: ClassVar[str]
    answers: ClassVar[bool]
    gap: ClassVar[float] = 0.0
    reply_timeout: ClassVar[float] = 0.1
    #: its frames are acknowledged by the subclass (`BusMaster.acknowledge`), not at once
    holds_acknowledgement: ClassVar[bool] = False

    def __init__(self, config: BusDeviceConfig, bus: BusMaster, context: DeviceContext) -> None:
        self.config = config
        self.bus = bus
        self.context = context
        self.tracker = HealthTracker(config.id, self.kind, config.model, config.link, context.clock)
        self._misses = 0
        self.endpoint = Endpoint(
            device=config.id,
            address=config.address if self.answers else None,
            listener=self,
            gap=self.gap,
            reply_timeout=self.reply_timeout,
            is_event=self.is_event,
            acknowledge=self.acknowledge,
            holds_acknowledgement=self.holds_acknowledgement,
        )
        bus.attach(self.endpoint)

    @property
    def id(self) -> str:
        return self.config.id

    # -- from the bus thread -------------------------------------------------------

    def frame_received(self, frame: Frame) -> None:
        self.context.loop.call_soon_threadsafe(self._frame, frame)

    def command_done(self, command: Command, answered: bool | None) -> None:
        self.context.loop.call_soon_threadsafe(self._done, command, answered)

    def link_changed(self, up: bool, reason: str | None) -> None:
        self.context.loop.call_soon_threadsafe(self._link, up, reason)

    # -- on the loop ---------------------------------------------------------------

    def _frame(self, frame: Frame) -> None:
        self._heard()
        self.on_frame(frame)

    def _done(self, command: Command, answered: bool | None) -> None:
        if answered:
            self._heard()
        elif answered is False and self.bus.up:
            self._misses += 1
            if self._misses >= MISSES_TO_OFFLINE:
                self.tracker.set(
                    DeviceState.OFFLINE,
                    f"no answer at address {self.config.address} ({self._misses} commands)",
                )
        self.on_done(command, answered)

    def _link(self, up: bool, reason: str | None) -> None:
        if not up:
            self.tracker.set(DeviceState.OFFLINE, f"bus_offline: {reason}")
        elif self.answers:
            self._misses = 0
            self.tracker.set(DeviceState.OFFLINE, "bus back; waiting for the device to answer")
        else:
            self.tracker.set(DeviceState.ONLINE, None)

    def _heard(self) -> None:
        self._misses = 0
        self.tracker.seen()
        self.tracker.set(DeviceState.ONLINE, None)

    def health(self) -> DeviceHealth:
        stats = self.endpoint.stats
        health = self.tracker.health
        health.counters = DeviceCounters(
            frames_out=stats.frames_out,
            frames_in=stats.frames_in,
            errors=stats.timeouts,
            reconnects=self.bus.reopens,
        )
        health.details = self.details()
        return health

    # -- for subclasses ------------------------------------------------------------

    def is_event(self, frame: Frame) -> bool:
        """Is this a frame the device sent on its own (not an answer)?"""
        return False

    def acknowledge(self, frame: Frame) -> Frame:
        raise NotImplementedError(f"{self.kind} sends no frames to acknowledge")

    def on_frame(self, frame: Frame) -> None:
        """A frame the device sent, acknowledged and deduplicated."""

    def on_done(self, command: Command, answered: bool | None) -> None:
        """A command went out: answered, not answered (False), or it expects no answer (None)."""

    def details(self) -> dict[str, object]:
        return {}
