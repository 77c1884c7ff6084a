"""Config schemas for kiosk ticket printers and the ticket they print."""

from __future__ import annotations

import string
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from devices.config import LanguageTag, Names, Slug, Strict
from drivers.escpos.profiles import PROFILES, known_profile

#: Where Debian's fonts-tibetan-machine (installed by `make`) puts its font.
TIBETAN_FONT = Path("/usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf")


class UsbConnection(Strict):
    vendor: int = Field(ge=0, le=0xFFFF, description="USB vendor id, e.g. 0x0416")
    product: int = Field(ge=0, le=0xFFFF, description="USB product id, e.g. 0x5011")
    serial: str | None = Field(default=None, description="Tells two identical printers apart.")
    in_ep: int = Field(default=0x82, ge=0x81, le=0x8F)
    out_ep: int = Field(default=0x01, ge=0x01, le=0x0F)
    simulator: Path | None = Field(
        default=None,
        description="Only in the config `hallkeeper simulate` writes: the Unix socket of its "
        "simulated USB bus, where the printer is found instead of on this PC's USB ports.",
    )

    @field_validator("simulator")
    @classmethod
    def _absolute_socket(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_absolute():
            raise ValueError(
                f"usb.simulator {str(path)!r} is not an absolute path; it is the socket "
                "`hallkeeper simulate` writes (e.g. var/HALL/sim/usb.sock as a full path)"
            )
        return path


class TcpConnection(Strict):
    host: str = Field(min_length=1)
    port: int = Field(default=9100, ge=1, le=65535)


class SerialConnection(Strict):
    device: str = Field(min_length=1, description="/dev/ttyUSB0 or a /dev/hallkeeper/... name")
    baud: int = Field(default=19200, gt=0)


class PrinterConfig(Strict):
    """A kiosk's ticket printer, on exactly one of usb, tcp or serial."""

    id: Slug
    model: str
    kiosk: Slug = Field(description="The kiosk it prints for: POST /tickets names it.")
    profile: str = Field(
        default="80mm",
        description="Capability profile: 58mm, 80mm, or a python-escpos profile name.",
    )
    usb: UsbConnection | None = None
    tcp: TcpConnection | None = None
    serial: SerialConnection | None = None
    text_languages: list[LanguageTag] = Field(
        default=["zh", "en"],
        description="Languages the printer has fonts for; others print as images.",
    )
    status_seconds: float = Field(default=10.0, gt=0, description="Status poll when idle.")
    reply_timeout: float = Field(default=0.5, gt=0, description="Wait for a status answer.")

    @model_validator(mode="after")
    def _one_connection(self) -> PrinterConfig:
        given = [name for name in ("usb", "tcp", "serial") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of usb, tcp, serial (given: {given or 'none'})")
        return self

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, name: str) -> str:
        if not known_profile(name):
            ours = ", ".join(PROFILES)
            raise ValueError(f"unknown profile {name!r}: use {ours} or a python-escpos profile")
        return name


_PLACEHOLDERS = {"waiting": {"ahead"}, "footer": set[str]()}
_QR_PLACEHOLDERS = {"ticket", "day", "hall"}


class TicketTemplate(Strict):
    """What a kiosk ticket says, in each of `languages` that a text is given in."""

    languages: list[LanguageTag] | None = Field(
        default=None, description="Languages on the ticket, in order; the hall's if unset."
    )
    waiting: Names = Field(
        default_factory=lambda: {
            "zh": "您前面还有 {ahead} 人等候",
            "en": "{ahead} waiting ahead of you",
        }
    )
    footer: Names = Field(
        default_factory=lambda: {
            "zh": "过号无效，请重新取号",
            "en": "Missed your call? Take a new ticket.",
        }
    )
    qr_url: str | None = Field(
        default=None,
        description="QR code on the ticket, e.g. https://hall.example/q?t={ticket}&d={day}",
    )
    number_size: int = Field(default=4, ge=1, le=8, description="Size of the number, 1-8.")
    image_font: Path = Field(
        default=TIBETAN_FONT, description="Font for languages a printer has no font for."
    )
    image_font_size: int = Field(default=28, ge=8, le=96)

    @model_validator(mode="after")
    def _known_placeholders(self) -> TicketTemplate:
        for key, allowed in _PLACEHOLDERS.items():
            for language, template in getattr(self, key).items():
                _check(f"{key}.{language}", template, allowed)
        if self.qr_url is not None:
            _check("qr_url", self.qr_url, _QR_PLACEHOLDERS)
        return self


def _check(where: str, template: str, allowed: set[str]) -> None:
    used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    unknown = used - allowed
    if unknown:
        names = ", ".join("{" + a + "}" for a in sorted(allowed)) or "no placeholders"
        raise ValueError(f"{where} uses {{{', '.join(sorted(unknown))}}}; it may use {names}")
