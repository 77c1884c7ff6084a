"""The overlay config `hallkeeper simulate` writes: the hall's own config with
every device pointed at its simulator, so `hallkeeper run --config OVERLAY`
runs the production daemon, unchanged, against the simulated hall.

What changes from the original file (everything else is kept as written):

- `links[].url`: the simulated bus's pty symlink in the folder;
- serial printers' `serial.device`, readers' `serial.device`: their pty symlinks;
- TCP printers' and attendance terminals' `tcp`: 127.0.0.1 and the simulator's port;
- USB printers: `usb.simulator`, the Unix socket of the simulated USB bus
  (vendor, product and serial stay: the simulated printers answer to them);
- speakers: a `file` output into `FOLDER/speakers/ID`;
- `mqtt.broker`: the simulation's own mosquitto, when it runs one
  (`mqtt.ca_file` goes: that broker is plain MQTT on loopback);
- relative paths (`storage.path`, `secrets`, voice packs and chime,
  `ticket.image_font`, `mqtt.ca_file`) made absolute from the original file's
  folder, so they name the same files from the overlay's folder.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from daemon.config.model import HallConfig
from daemon.config.yaml_source import HallYamlLoader
from devices.attendance_config import ReaderConfig, TerminalConfig
from devices.models import DEVICE_MODELS
from devices.printer_config import PrinterConfig
from devices.speaker_config import SpeakerConfig
from simulators.hall import SimulatedHall

__all__ = ["OVERLAY_NAME", "USB_SOCKET_NAME", "overlay_document", "replace_file", "write_overlay"]

OVERLAY_NAME = "hall.yaml"
USB_SOCKET_NAME = "usb.sock"


def overlay_document(
    original: dict[str, Any],
    config: HallConfig,
    source: Path,
    simulated: SimulatedHall,
    folder: Path,
    broker_url: str | None,
) -> dict[str, Any]:
    """`original` (the YAML document of `source`, loaded as `config`) pointed
    at the running `simulated` hall whose files are in `folder`; `broker_url`
    is the simulation's broker, None to keep the config's."""
    document = copy.deepcopy(original)
    base = source.resolve().parent
    for link in document.get("links") or []:
        link["url"] = simulated.link_urls[link["id"]]
    urls = {**simulated.printer_urls, **simulated.reader_urls, **simulated.terminal_urls}
    for entry in document.get("devices") or []:
        _point_device(entry, urls, folder)
    _absolute_paths(document, config, base)
    if broker_url is not None:
        document["mqtt"]["broker"] = broker_url
        document["mqtt"].pop("ca_file", None)
    return document


def _point_device(entry: dict[str, Any], urls: dict[str, str], folder: Path) -> None:
    """Point one device entry at its simulator (devices without one stay as they are)."""
    model = DEVICE_MODELS.get(entry.get("model", ""))
    kind = model.config_type if model is not None else None
    device = entry["id"]
    if kind is PrinterConfig:
        if entry.get("usb") is not None:
            entry["usb"]["simulator"] = str(folder / USB_SOCKET_NAME)
        elif entry.get("tcp") is not None:
            entry["tcp"] = _tcp(urls[device])
        else:
            entry["serial"]["device"] = urls[device]
    elif kind is ReaderConfig:
        entry["serial"]["device"] = urls[device]
    elif kind is TerminalConfig:
        entry["tcp"] = _tcp(urls[device])
    elif kind is SpeakerConfig:
        for output in ("alsa", "file", "mute"):
            entry.pop(output, None)
        entry["file"] = {"folder": str(folder / "speakers" / device)}


def _tcp(url: str) -> dict[str, Any]:
    host, _, port = url.removeprefix("tcp://").rpartition(":")
    return {"host": host, "port": int(port)}


def _absolute_paths(document: dict[str, Any], config: HallConfig, base: Path) -> None:
    """The config's relative paths, from the original file's folder (as the loader
    reads them, and for the image font and CA file, which it leaves alone)."""
    document["storage"]["path"] = str(config.storage.path)
    document["secrets"] = str(config.secrets)
    voice = document.get("voice") or {}
    for language, speech in (voice.get("speech") or {}).items():
        if isinstance(speech, dict) and speech.get("pack"):
            speech["pack"] = str(config.voice.speech[language].pack)
    if voice.get("chime"):
        voice["chime"] = str(config.voice.chime)
    ticket = document.get("ticket") or {}
    if ticket.get("image_font"):
        ticket["image_font"] = str(base / ticket["image_font"])
    mqtt = document.get("mqtt") or {}
    if mqtt.get("ca_file"):
        mqtt["ca_file"] = str(base / mqtt["ca_file"])


class OverlayDumper(yaml.SafeDumper):
    """Quotes a string that YAML 1.1 or the config's YAML 1.2 would read as something
    else (staff_no: "0108" is a number to YAML 1.2, not to 1.1)."""


for _first, _resolvers in HallYamlLoader.yaml_implicit_resolvers.items():
    for _tag, _pattern in _resolvers:
        OverlayDumper.add_implicit_resolver(_tag, _pattern, [_first])


def write_overlay(path: Path, document: dict[str, Any], source: Path) -> None:
    """Write the overlay at `path` in one step: a reader finds the whole file or none."""
    header = (
        f"# Written by `hallkeeper simulate --config {source}`; do not edit: it is written\n"
        "# again at each start, and removed at the stop. The daemon runs on it with\n"
        f"#   hallkeeper run --config {path}\n"
    )
    text = header + yaml.dump(document, Dumper=OverlayDumper, allow_unicode=True, sort_keys=False)
    replace_file(path, text)


def replace_file(path: Path, text: str) -> None:
    """Write `path` in one step: a reader finds the whole file or none."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
