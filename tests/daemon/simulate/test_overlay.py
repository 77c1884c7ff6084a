"""The overlay config `hallkeeper simulate` writes: every device at its simulator,
the rest as the hall's own file says, relative paths still naming the same files."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.config.loader import ConfigError, load_config
from daemon.config.model import HallConfig, entries_of, printers
from daemon.config.yaml_source import parse_yaml
from daemon.simulate import command
from daemon.simulate.command import hall_broker
from daemon.simulate.overlay import overlay_document, write_overlay
from daemon.simulation import link_specs, printer_specs, reader_specs, terminal_specs
from devices.attendance_config import ReaderConfig, TerminalConfig
from devices.speaker_config import SpeakerConfig
from simulators.hall import SimulatedHall
from tests.conftest import write_config
from tests.daemon.simulate.halls import hall_document


def with_voice(document: dict[str, Any]) -> dict[str, Any]:
    document["voice"] = {"speech": {"zh": {"pack": "voice/zh"}}, "chime": "voice/chime.wav"}
    document["ticket"] = {"image_font": "fonts/tibetan.ttf"}
    document["devices"].append({"id": "speaker-1", "model": "speaker", "alsa": {}})
    document["devices"].append(
        {"id": "printer-3", "model": "escpos-printer", "kiosk": "kiosk-3",
         "serial": {"device": "/dev/ttyS0", "baud": 38400}}
    )  # fmt: skip
    return document


@pytest.fixture
def hall_file(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    path = write_config(tmp_path / "etc", with_voice(hall_document(tmp_path)))
    text = path.read_text(encoding="utf-8")
    # a string to YAML 1.2 only when quoted, and to YAML 1.1 either way
    path.write_text(text.replace("staff_no: '0101'", "staff_no: '0108'"), encoding="utf-8")
    return path


@pytest.fixture
def simulated(hall_file: Path, tmp_path: Path) -> Iterator[SimulatedHall]:
    config = load_config(hall_file)
    hall = SimulatedHall(
        link_specs(config),
        tmp_path / "sim",
        None,
        printers=printer_specs(config),
        readers=reader_specs(config),
        terminals=terminal_specs(config),
    )
    hall.start()
    try:
        yield hall
    finally:
        hall.stop()


def overlay(hall_file: Path, simulated: SimulatedHall, folder: Path, broker: str | None) -> Path:
    original = parse_yaml(hall_file.read_text(encoding="utf-8")).data
    config = load_config(hall_file)
    path = folder / "hall.yaml"
    write_overlay(
        path, overlay_document(original, config, hall_file, simulated, folder, broker), hall_file
    )
    return path


def test_every_device_is_at_its_simulator(
    hall_file: Path, simulated: SimulatedHall, tmp_path: Path
) -> None:
    folder = tmp_path / "sim"
    config = load_config(overlay(hall_file, simulated, folder, "mqtt://127.0.0.1:1999"))
    assert [link.url for link in config.links] == [str(folder / "bus-1")]
    by_id = {printer.id: printer for printer in printers(config)}
    usb = by_id["kiosk-1-printer"].usb
    assert usb is not None and usb.simulator == folder / "usb.sock"
    assert (usb.vendor, usb.product) == (0x0416, 0x5011)
    tcp = by_id["kiosk-2-printer"].tcp
    assert (
        tcp is not None
        and f"tcp://{tcp.host}:{tcp.port}" == simulated.printer_urls["kiosk-2-printer"]
    )
    serial = by_id["printer-3"].serial
    assert serial is not None and (serial.device, serial.baud) == (str(folder / "printer-3"), 38400)
    [reader] = entries_of(config, ReaderConfig)
    assert reader.serial.device == simulated.reader_urls["reader-1"]
    [terminal] = entries_of(config, TerminalConfig)
    assert f"tcp://{terminal.tcp.host}:{terminal.tcp.port}" == simulated.terminal_urls["terminal-1"]
    [speaker] = entries_of(config, SpeakerConfig)
    assert speaker.alsa is None and speaker.file is not None
    assert speaker.file.folder == folder / "speakers" / "speaker-1"
    assert config.mqtt is not None and config.mqtt.broker == "mqtt://127.0.0.1:1999"


def test_the_rest_is_the_halls_own_with_paths_from_the_original_folder(
    hall_file: Path, simulated: SimulatedHall, tmp_path: Path
) -> None:
    original = load_config(hall_file)
    config = load_config(overlay(hall_file, simulated, tmp_path / "sim", None))
    etc = hall_file.parent
    assert config.storage.path == original.storage.path == etc / "var" / "hall.sqlite3"
    assert config.secrets == etc / "var" / "secrets.yaml"
    assert config.voice.speech["zh"].pack == etc / "voice" / "zh"
    assert config.voice.chime == etc / "voice" / "chime.wav"
    assert config.ticket.image_font == etc / "fonts" / "tibetan.ttf"
    assert config.mqtt == original.mqtt  # None: the config's broker is kept
    same = ("hall", "queue", "services", "windows", "staff", "api", "events", "texts")
    assert all(getattr(config, key) == getattr(original, key) for key in same)


def test_a_relative_usb_simulator_socket_is_a_clear_config_error(tmp_path: Path) -> None:
    document = hall_document(tmp_path)
    document["devices"][3]["usb"]["simulator"] = "sim/usb.sock"
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, document))
    [problem] = error.value.problems
    assert "devices" in problem.where and "usb.simulator 'sim/usb.sock'" in problem.message
    assert "absolute" in problem.message


def config_with_broker(tmp_path: Path, broker: str) -> HallConfig:
    document = hall_document(tmp_path)
    document["mqtt"] = {"broker": broker}
    return load_config(write_config(tmp_path, document))


@pytest.mark.parametrize(
    ("broker", "own"),
    [
        ("embedded", True),
        ("mqtt://127.0.0.1:1883", True),
        ("mqtt://hall:secret@localhost", True),
        ("mqtts://mqtt.city.example", False),
        ("mqtt://192.0.2.7:1883", False),
    ],
)
def test_the_simulation_runs_its_own_broker_for_an_embedded_or_local_one(
    tmp_path: Path, broker: str, own: bool
) -> None:
    if command.mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    found = hall_broker(config_with_broker(tmp_path, broker), tmp_path / "sim", io.StringIO())
    assert (found is not None) == own


def test_without_mosquitto_the_configs_broker_is_kept_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command, "mosquitto_binary", lambda: None)
    out = io.StringIO()
    assert hall_broker(config_with_broker(tmp_path, "embedded"), tmp_path, out) is None
    assert "没有 mosquitto" in out.getvalue()
    assert "apt-get install mosquitto" in out.getvalue()
    assert "the overlay keeps mqtt.broker (the embedded broker)" in out.getvalue()
