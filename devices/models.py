"""The device models a hall config can name, by `model` string: a model pairs
the schema of its config entry with the device class it builds, so a new
vendor is a codec plus an entry here."""

from __future__ import annotations

from dataclasses import dataclass

from devices.adms_terminal import AdmsTerminal
from devices.attendance_config import AdmsConfig, ReaderConfig, TerminalConfig
from devices.attendance_terminal import AttendanceTerminal
from devices.bus_device import BusDevice
from devices.caller_keypad import CallerKeypad
from devices.config import (
    BusDeviceConfig,
    HallScreenConfig,
    KeypadConfig,
    PadConfig,
    WindowScreenConfig,
)
from devices.evaluation_pad import EvaluationPad
from devices.fingerprint_reader import FingerprintReader
from devices.mqtt_devices import (
    MqttDevice,
    MqttDeviceConfig,
    MqttDisplay,
    MqttKeypad,
    MqttPad,
)
from devices.printer_config import PrinterConfig
from devices.screens import HallDisplay, WindowDisplay
from devices.speaker import Speaker
from devices.speaker_config import SpeakerConfig
from devices.ticket_printer import TicketPrinter


@dataclass(frozen=True)
class DeviceModel:
    name: str
    kind: str
    protocol: str  # addresses are unique per protocol on a link
    config_type: (
        type[BusDeviceConfig]
        | type[PrinterConfig]
        | type[ReaderConfig]
        | type[TerminalConfig]
        | type[AdmsConfig]
        | type[MqttDeviceConfig]
        | type[SpeakerConfig]
    )
    device_type: (
        type[BusDevice]
        | type[TicketPrinter]
        | type[FingerprintReader]
        | type[AttendanceTerminal]
        | type[AdmsTerminal]
        | type[MqttDevice]
        | type[Speaker]
    )

    @property
    def on_bus(self) -> bool:
        """Is it a device on an RS-485 link (else it has a connection of its own)?"""
        return issubclass(self.config_type, BusDeviceConfig)


DEVICE_MODELS: dict[str, DeviceModel] = {
    model.name: model
    for model in (
        DeviceModel(
            "imm-window-screen", WindowDisplay.kind, "imm", WindowScreenConfig, WindowDisplay
        ),
        DeviceModel("imm-hall-screen", HallDisplay.kind, "imm", HallScreenConfig, HallDisplay),
        DeviceModel("ff68-keypad", CallerKeypad.kind, "ff68", KeypadConfig, CallerKeypad),
        DeviceModel("ff68-pad", EvaluationPad.kind, "ff68", PadConfig, EvaluationPad),
        DeviceModel("escpos-printer", TicketPrinter.kind, "escpos", PrinterConfig, TicketPrinter),
        DeviceModel("r30x-reader", FingerprintReader.kind, "r30x", ReaderConfig, FingerprintReader),
        DeviceModel(
            "zk-terminal", AttendanceTerminal.kind, "zk", TerminalConfig, AttendanceTerminal
        ),
        DeviceModel("zk-adms", AdmsTerminal.kind, "adms", AdmsConfig, AdmsTerminal),
        DeviceModel("mqtt-display", MqttDisplay.kind, "mqtt", MqttDeviceConfig, MqttDisplay),
        DeviceModel("mqtt-keypad", MqttKeypad.kind, "mqtt", MqttDeviceConfig, MqttKeypad),
        DeviceModel("mqtt-pad", MqttPad.kind, "mqtt", MqttDeviceConfig, MqttPad),
        DeviceModel("speaker", Speaker.kind, "audio", SpeakerConfig, Speaker),
    )
}
