"""The hall's devices, built from its config: one bus master per link, one
device object per entry, and the map from windows to their devices."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from daemon.config.model import (
    DeviceEntry,
    HallConfig,
    Link,
    bus_link,
    entries_of,
    printers,
    speakers,
    spoken_languages,
)
from devices.adms_terminal import AdmsTerminal
from devices.attendance_config import AdmsConfig, ReaderConfig, TerminalConfig
from devices.attendance_terminal import AttendanceTerminal
from devices.bus_device import BusDevice, DeviceContext
from devices.caller_keypad import CallerKeypad
from devices.config import BusDeviceConfig
from devices.evaluation_pad import EvaluationPad
from devices.fingerprint_reader import FingerprintReader
from devices.health import DeviceHealth
from devices.models import DEVICE_MODELS
from devices.mqtt_devices import MqttDevice, MqttDeviceConfig, MqttDisplay, MqttKeypad, MqttPad
from devices.printer_config import PrinterConfig
from devices.screens import HallDisplay, WindowDisplay
from devices.speaker import Speaker
from devices.speaker_config import SpeakerConfig, Voice
from devices.ticket_printer import TicketPrinter
from drivers.audio.sinks import AlsaSink, FileSink, NullSink, Sink
from drivers.audio.voicebox import Voicebox
from drivers.bus import BusMaster
from drivers.escpos.links import NetworkLink, PrinterLink, SerialPrinterLink, UsbLink
from drivers.escpos.ticket import TicketRenderer
from drivers.escpos.usb_remote import RemoteUsbBackend
from drivers.links.serial_link import SerialLink

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Overrides:
    """Where simulators stand in for the configured hardware: URLs by link or
    device id (a pty path or tcp://host:port), and the pyusb backend."""

    urls: Mapping[str, str] = field(default_factory=dict)
    usb_backend: Any = None
    speaker_folder: Path | None = None  # every speaker plays into WAV files here


class Hardware:
    """Every device of a config, built but not started. Built again from a
    reloaded config with `running`, it takes over each running part (a bus
    with its devices, or one device) whose inputs did not change, so a reload
    restarts only what was added or changed (`hand_over`)."""

    def __init__(
        self,
        config: HallConfig,
        context: DeviceContext,
        overrides: Overrides | None = None,
        running: Hardware | None = None,
    ) -> None:
        self.context = context
        self.overrides = overrides = overrides or Overrides()
        self._parts: dict[str, tuple[str, Any]] = {}
        self._running = running._parts if running is not None else {}
        self.buses: dict[str, BusMaster] = {}
        self.devices: list[BusDevice] = []
        for link in config.links:
            url = overrides.urls.get(link.id, link.url)
            entries = [e for e in config.devices if bus_link(e) == link.id]
            inputs = [link, url, entries, config.texts, config.hall.languages]
            bus, devices = self._part(f"link:{link.id}", inputs, _bus, link, url, entries, context)
            self.buses[link.id] = bus
            self.devices += devices
        order = {entry.id: n for n, entry in enumerate(config.devices)}
        self.devices.sort(key=lambda device: order[device.id])
        self.printers = [
            self._part(
                printer.id,
                [printer, overrides.urls.get(printer.id), config.ticket, config.hall.languages],
                _printer,
                config,
                printer,
                overrides,
                context,
            )
            for printer in printers(config)
        ]
        self.readers = [
            self._part(
                reader.id,
                [reader, overrides.urls.get(reader.id)],
                _reader,
                reader,
                overrides,
                context,
            )
            for reader in entries_of(config, ReaderConfig)
        ]
        self.terminals = [
            self._part(
                terminal.id,
                [terminal, overrides.urls.get(terminal.id)],
                AttendanceTerminal,
                terminal,
                context,
                overrides.urls.get(terminal.id),
            )
            for terminal in entries_of(config, TerminalConfig)
        ]
        self.adms = [
            self._part(entry.id, [entry], AdmsTerminal, entry, context)
            for entry in entries_of(config, AdmsConfig)
        ]
        self.speakers = [
            self._part(
                entry.id,
                [entry, config.voice, spoken_languages(config, entry), overrides.speaker_folder],
                speaker,
                config,
                entry,
                context,
                overrides.speaker_folder,
            )
            for entry in speakers(config)
        ]
        self.mqtt_devices: dict[str, MqttDevice] = {}
        for entry in config.devices:
            model = DEVICE_MODELS[entry.model]
            if model.config_type is MqttDeviceConfig:
                mqtt_config = MqttDeviceConfig.model_validate(entry.model_dump())
                self.mqtt_devices[entry.id] = self._part(
                    entry.id, [entry], model.device_type, mqtt_config, context
                )
        self.window_displays = self._by_window(WindowDisplay, MqttDisplay)
        self.keypads = self._by_window(CallerKeypad, MqttKeypad)
        self.pads = self._by_window(EvaluationPad, MqttPad)
        self.hall_displays = [d for d in self.devices if isinstance(d, HallDisplay)]
        self._running = {}  # not kept: each reload would hold on to the one before

    def _part(self, key: str, inputs: list[Any], build: Callable[..., T], *args: Any) -> T:
        """The running part at `key` if it was built from the same `inputs`
        (its config entries and what else it is built from), else `build(*args)`."""
        fingerprint = json.dumps(inputs, default=_plain, sort_keys=True)
        running = self._running.get(key)
        part = running[1] if running is not None and running[0] == fingerprint else build(*args)
        self._parts[key] = (fingerprint, part)
        return part

    def _by_window(self, *kinds: type[Any]) -> dict[int, list[Any]]:
        """The devices of `kinds` (on a bus or on MQTT) by the window they serve."""
        found: dict[int, list[Any]] = defaultdict(list)
        for device in [*self.devices, *self.mqtt_devices.values()]:
            if isinstance(device, kinds):
                found[device.config.window].append(device)
        return found

    @property
    def _threaded(
        self,
    ) -> list[BusMaster | TicketPrinter | FingerprintReader | AttendanceTerminal | Speaker]:
        """What runs a thread of its own: buses, printers, readers, terminals, speakers."""
        return [
            *self.buses.values(),
            *self.printers,
            *self.readers,
            *self.terminals,
            *self.speakers,
        ]

    def start(self) -> None:
        for owner in self._threaded:
            owner.start()

    async def stop(self) -> None:
        """Stop every link's thread; each finishes the frame or ticket it is writing."""
        await _stop_all(self._threaded)

    def rebuilt(self, config: HallConfig, context: DeviceContext) -> Hardware:
        """The devices of a reloaded `config`, keeping the running parts it did not change."""
        return Hardware(config, context, self.overrides, running=self)

    async def hand_over(self, new: Hardware) -> None:
        """Stop the threads `new` does not keep, then start those it built:
        a port is free again before its new owner opens it."""
        kept = {id(owner) for owner in new._threaded}
        await _stop_all([owner for owner in self._threaded if id(owner) not in kept])
        running = {id(owner) for owner in self._threaded}
        for owner in new._threaded:
            if id(owner) not in running:
                owner.start()

    def health(self) -> list[DeviceHealth]:
        return [
            *(device.health() for device in self.devices),
            *(printer.health() for printer in self.printers),
            *(reader.health() for reader in self.readers),
            *(terminal.health() for terminal in self.terminals),
            *(pusher.health() for pusher in self.adms),
            *(device.health() for device in self.mqtt_devices.values()),
            *(speaker.health() for speaker in self.speakers),
        ]

    def bus_masters(self) -> list[BusMaster]:
        return list(self.buses.values())

    def reader(self, reader_id: str) -> FingerprintReader | None:
        return next((r for r in self.readers if r.id == reader_id), None)


def _bus(
    link: Link, url: str, entries: list[DeviceEntry], context: DeviceContext
) -> tuple[BusMaster, list[BusDevice]]:
    """One link's bus master and the devices on it: built, and replaced, together."""
    bus = BusMaster(link.id, SerialLink(url, link.baud), link.refresh_spacing_seconds)
    devices = []
    for entry in entries:
        model = DEVICE_MODELS[entry.model]
        device_config = model.config_type.model_validate(entry.model_dump())
        assert isinstance(device_config, BusDeviceConfig)
        devices.append(model.device_type(device_config, bus, context))  # type: ignore[arg-type]
    return bus, devices


def _printer(
    config: HallConfig, printer: PrinterConfig, overrides: Overrides, context: DeviceContext
) -> TicketPrinter:
    url = overrides.urls.get(printer.id)
    link = printer_link(printer, url, overrides.usb_backend)
    return TicketPrinter(printer, link, renderer(config, printer), context)


def _reader(
    reader: ReaderConfig, overrides: Overrides, context: DeviceContext
) -> FingerprintReader:
    url = overrides.urls.get(reader.id, reader.serial.device)
    return FingerprintReader(reader, SerialLink(url, reader.serial.baud), context)


async def _stop_all(owners: list[Any]) -> None:
    await asyncio.gather(*(asyncio.to_thread(owner.stop) for owner in owners))


def _plain(value: object) -> object:
    """Config models as their JSON documents, for a part's fingerprint."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def printer_link(config: PrinterConfig, url: str | None, usb_backend: Any) -> PrinterLink:
    """The link to a printer: as configured, or at `url` (tcp://host:port or a
    device path) when a simulator stands in for it."""
    if url is not None:
        if url.startswith("tcp://"):
            host, _, port = url.removeprefix("tcp://").rpartition(":")
            return NetworkLink(host, int(port))
        return SerialPrinterLink(url, config.serial.baud if config.serial else 19200)
    if config.usb is not None:
        usb = config.usb
        if usb_backend is None and usb.simulator is not None:
            usb_backend = RemoteUsbBackend(usb.simulator)
        return UsbLink(usb.vendor, usb.product, usb.serial, usb.in_ep, usb.out_ep, usb_backend)
    if config.tcp is not None:
        return NetworkLink(config.tcp.host, config.tcp.port)
    assert config.serial is not None
    return SerialPrinterLink(config.serial.device, config.serial.baud)


def speaker(
    config: HallConfig, entry: SpeakerConfig, context: DeviceContext, folder: Path | None
) -> Speaker:
    """A speaker with its output, and a voicebox for each language it says.
    With `folder` (a simulated hall) it plays into WAV files there."""
    boxes = {
        language: voicebox(config.voice, language) for language in spoken_languages(config, entry)
    }
    return Speaker(entry, config.voice, speaker_sink(entry, folder), boxes, context)


def voicebox(voice: Voice, language: str) -> Voicebox:
    speech = voice.speech_of(language)
    return Voicebox(language, speech.pack, speech.synthesis_voice(language), speech.speed)


def speaker_sink(entry: SpeakerConfig, folder: Path | None) -> Sink:
    if folder is not None:
        return FileSink(folder / entry.id)
    if entry.alsa is not None:
        return AlsaSink(entry.alsa.device)
    if entry.file is not None:
        return FileSink(entry.file.folder, entry.file.realtime, entry.file.keep)
    assert entry.mute is not None
    return NullSink(entry.mute.realtime)


def renderer(config: HallConfig, printer: PrinterConfig) -> TicketRenderer:
    template = config.ticket
    languages = template.languages or config.hall.languages
    as_images = [lang for lang in languages if lang not in printer.text_languages]
    font: Path | None = template.image_font
    if as_images and not template.image_font.is_file():
        log.warning(
            "printer %s: no font %s (ticket.image_font) for %s: those lines are left out; "
            "`make` installs it (Debian package fonts-tibetan-machine)",
            printer.id,
            template.image_font,
            ", ".join(as_images),
        )
        font = None
    return TicketRenderer(
        printer.profile,
        printer.text_languages,
        font,
        template.image_font_size,
        template.number_size,
    )
