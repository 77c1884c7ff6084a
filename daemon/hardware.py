"""The hall's devices, built from its config: one bus master per link, one
device object per entry, and the map from windows to their devices."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.config.model import HallConfig, entries_of, printers, speakers, spoken_languages
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
from drivers.links.serial_link import SerialLink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Overrides:
    """Where simulators stand in for the configured hardware: URLs by link or
    device id (a pty path or tcp://host:port), and the pyusb backend."""

    urls: Mapping[str, str] = field(default_factory=dict)
    usb_backend: Any = None
    speaker_folder: Path | None = None  # every speaker plays into WAV files here


class Hardware:
    def __init__(
        self, config: HallConfig, context: DeviceContext, overrides: Overrides | None = None
    ) -> None:
        overrides = overrides or Overrides()
        urls = {link.id: link.url for link in config.links} | {
            link.id: overrides.urls[link.id] for link in config.links if link.id in overrides.urls
        }
        self.buses = {
            link.id: BusMaster(link.id, SerialLink(urls[link.id], link.baud))
            for link in config.links
        }
        self.devices: list[BusDevice] = []
        for entry in config.devices:
            model = DEVICE_MODELS[entry.model]
            if not model.on_bus:
                continue
            device_config = model.config_type.model_validate(entry.model_dump())
            assert isinstance(device_config, BusDeviceConfig)
            bus = self.buses[device_config.link]
            self.devices.append(model.device_type(device_config, bus, context))  # type: ignore[arg-type]
        self.printers = [
            TicketPrinter(
                printer,
                printer_link(printer, overrides.urls.get(printer.id), overrides.usb_backend),
                renderer(config, printer),
                context,
            )
            for printer in printers(config)
        ]
        self.readers = [
            FingerprintReader(
                reader,
                SerialLink(overrides.urls.get(reader.id, reader.serial.device), reader.serial.baud),
                context,
            )
            for reader in entries_of(config, ReaderConfig)
        ]
        self.terminals = [
            AttendanceTerminal(terminal, context, overrides.urls.get(terminal.id))
            for terminal in entries_of(config, TerminalConfig)
        ]
        self.adms = [AdmsTerminal(entry, context) for entry in entries_of(config, AdmsConfig)]
        self.speakers = [
            speaker(config, entry, context, overrides.speaker_folder) for entry in speakers(config)
        ]
        self.mqtt_devices: dict[str, MqttDevice] = {}
        for entry in config.devices:
            model = DEVICE_MODELS[entry.model]
            if model.config_type is MqttDeviceConfig:
                mqtt_config = MqttDeviceConfig.model_validate(entry.model_dump())
                self.mqtt_devices[entry.id] = model.device_type(mqtt_config, context)  # type: ignore[call-arg, arg-type, assignment]
        self.window_displays = self._by_window(WindowDisplay, MqttDisplay)
        self.keypads = self._by_window(CallerKeypad, MqttKeypad)
        self.pads = self._by_window(EvaluationPad, MqttPad)
        self.hall_displays = [d for d in self.devices if isinstance(d, HallDisplay)]

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
        await asyncio.gather(*(asyncio.to_thread(owner.stop) for owner in self._threaded))

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

    def reader(self, reader_id: str) -> FingerprintReader | None:
        return next((r for r in self.readers if r.id == reader_id), None)


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
