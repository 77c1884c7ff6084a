"""SIGHUP: the config file read again, its devices applied to the running
hall without a restart.

What a reload applies: `links`, `devices`, and what devices are built from
(`texts`, `ticket`, `voice`). The hardware is built again from them; every part whose
inputs did not change (a bus with its devices, or one device) keeps running
untouched, the others are stopped and their successors started (see
`Hardware`), and whatever looks devices up (the router, the spooler, the
API's readers and ADMS terminals, MQTT devices, health and metrics) is
pointed at the new set. The queue, the store and the API keep running.

Other sections (services, windows, staff, api, mqtt, storage, ...) shape
the running hall; a change there is logged as taking effect at the next
restart. A config with problems, or whose devices do not fit the sections
that keep running, is refused with every problem logged, and the hall keeps
the config it runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from fastapi import FastAPI

from daemon.api.app import use_devices
from daemon.config.crossref import cross_check
from daemon.config.loader import ConfigError, load_config
from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.hardware import Hardware
from daemon.mqtt.service import MqttService
from daemon.printing import Spooler
from daemon.router import Router
from daemon.runtime import DaemonInfo
from daemon.supervisor import Supervisor
from daemon.voice.announcer import Announcer

log = logging.getLogger(__name__)

RELOADED = ("links", "devices", "texts", "ticket", "voice")


@dataclass
class Reloader:
    """Holds the running hardware, and swaps it for the config at `path` on request."""

    path: Path | None
    hardware: Hardware
    hall: Hall
    router: Router
    spooler: Spooler
    info: DaemonInfo
    app: FastAPI
    mqtt: MqttService | None
    supervisor: Supervisor
    announcer: Announcer

    def __post_init__(self) -> None:
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[bool]] = set()

    def request(self) -> None:
        """From the SIGHUP handler: reload once the reload in progress, if any, is done."""
        task = asyncio.get_running_loop().create_task(self.reload(), name="reload")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finish(self) -> None:
        """Wait for requested reloads (before the hardware stops)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def reload(self) -> bool:
        """True if the config was read and its devices applied."""
        async with self._lock:
            self.supervisor.reloading()
            try:
                config = await self._read()
                if config is not None:
                    await self._apply(config)
                return config is not None
            finally:
                self.supervisor.ready()

    async def _read(self) -> HallConfig | None:
        """The running config with the reloaded sections of the file, or None."""
        if self.path is None:
            log.error("reload: the daemon was started without a config file; nothing to reload")
            return None
        log.info("reload: reading %s", self.path)
        try:
            new = await asyncio.to_thread(load_config, self.path)
        except ConfigError as exc:
            log.error(
                "reload refused: the hall keeps running with the config it has. "
                "%s has problems:\n%s",
                self.path,
                exc,
            )
            return None
        running = self.hall.config
        later = [
            name
            for name in HallConfig.model_fields
            if name not in RELOADED and getattr(new, name) != getattr(running, name)
        ]
        applied = running.model_copy(update={name: getattr(new, name) for name in RELOADED})
        problems = cross_check(applied)
        if problems:
            log.error(
                "reload refused: the hall keeps running with the config it has. "
                "The devices of %s do not fit the running hall (%s apply at a restart):\n%s",
                self.path,
                ", ".join(later) or "no other section changed",
                "\n".join(problem.render(str(self.path)) for problem in problems),
            )
            return None
        if later:
            log.warning(
                "reload: %s changed in %s; that takes a restart (systemctl restart hallkeeper)",
                ", ".join(later),
                self.path,
            )
        return applied

    async def _apply(self, config: HallConfig) -> None:
        before = {entry.id: entry for entry in self.hall.config.devices}
        after = {entry.id: entry for entry in config.devices}
        context = replace(
            self.hardware.context, texts=config.texts, language=config.hall.languages[0]
        )
        hardware = self.hardware.rebuilt(config, context)
        await self.hardware.hand_over(hardware)
        self.hardware = hardware
        self.hall.use_devices(config)
        self.router.use(hardware)
        self.spooler.use(hardware.printers)
        self.announcer.use(hardware.speakers)
        self.info.devices = hardware.health
        self.info.buses = hardware.bus_masters
        use_devices(self.app, hardware.readers, hardware.adms)
        removed = sorted(before.keys() - after.keys())
        if self.mqtt is not None:
            self.mqtt.bridge.attach(hardware.mqtt_devices)
            self.mqtt.bridge.forget_devices(removed)
        changed = sorted(i for i in before.keys() & after.keys() if before[i] != after[i])
        log.info(
            "reload: devices added %s, removed %s, changed %s",
            ", ".join(sorted(after.keys() - before.keys())) or "none",
            ", ".join(removed) or "none",
            ", ".join(changed) or "none",
        )
