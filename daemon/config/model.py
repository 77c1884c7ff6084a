"""The hall configuration file, one YAML document per hall, as pydantic models.

Every model forbids unknown keys: a misspelt key is an error with its line,
never a silently ignored setting. Checks that span sections (a window naming
a service that does not exist) live in `crossref.py`, so each problem can be
reported at the key where it is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from daemon.mqtt.broker import parse_broker
from devices.config import LanguageTag, Names, Slug, Strict, Text, Texts
from devices.models import DEVICE_MODELS
from devices.printer_config import PrinterConfig, TicketTemplate
from devices.speaker_config import SpeakerConfig, Voice
from drivers.bus import REFRESH_SPACING

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HallInfo(Strict):
    id: Slug = Field(description="Short id used in event documents and MQTT topics.")
    names: Names = Field(description="The hall's name in each of its languages.")
    languages: list[LanguageTag] = Field(
        default=["zh", "en"],
        min_length=1,
        description="Languages the hall shows and says, first one primary.",
    )
    timezone: str = "Asia/Shanghai"
    day_starts: dt.time = Field(
        default=dt.time(4, 0),
        description="Local time at which numbering restarts and open tickets expire.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("languages")
    @classmethod
    def _distinct_languages(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class QueueRules(Strict):
    priority_max_in_row: int = Field(
        default=2,
        ge=1,
        description="Priority tickets called in a row at one window before a waiting "
        "normal ticket must be called.",
    )
    no_show_tolerance_minutes: int = Field(
        default=30,
        ge=0,
        description="Minutes after a skip during which the ticket can still be called "
        "or reactivated.",
    )


class NumberRange(Strict):
    first: int = Field(default=1, ge=0)
    last: int = Field(default=999, ge=1, le=99999)

    @model_validator(mode="after")
    def _ordered(self) -> NumberRange:
        if self.last <= self.first:
            raise ValueError(f"last ({self.last}) must be greater than first ({self.first})")
        return self

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def width(self) -> int:
        return len(str(self.last))


class OpeningPeriod(Strict):
    days: list[Weekday] = Field(default=list(WEEKDAYS))
    start: dt.time
    end: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> OpeningPeriod:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:%H:%M}) must be after start ({self.start:%H:%M})")
        return self

    def covers(self, local: dt.datetime) -> bool:
        return WEEKDAYS[local.weekday()] in self.days and self.start <= local.time() < self.end


class Service(Strict):
    id: Slug
    names: Names
    prefix: str = Field(pattern=r"^[A-Z]{1,3}$", description="Letters before the number, A-Z.")
    numbers: NumberRange = NumberRange()
    daily_limit: int | None = Field(
        default=None, ge=1, description="Tickets per day; the number range if unset."
    )
    opening_hours: list[OpeningPeriod] = Field(
        default=[], description="When tickets are issued; always when empty."
    )

    @model_validator(mode="after")
    def _limit_fits_range(self) -> Service:
        if self.daily_limit is not None and self.daily_limit > self.numbers.size:
            raise ValueError(
                f"daily_limit {self.daily_limit} exceeds the {self.numbers.size} numbers "
                f"{self.numbers.first}-{self.numbers.last}: a number would be issued twice "
                "in one day"
            )
        return self

    @property
    def capacity(self) -> int:
        return self.daily_limit if self.daily_limit is not None else self.numbers.size

    def is_open(self, local: dt.datetime) -> bool:
        return not self.opening_hours or any(p.covers(local) for p in self.opening_hours)

    def code(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.numbers.width}d}"


class WindowClerks(Strict):
    a: Slug = Field(description="The clerk who holds the post (A岗).")
    b: Slug | None = Field(default=None, description="The backup clerk (B岗).")


class Window(Strict):
    number: int = Field(ge=1, le=9999, description="The number on the window, as called.")
    names: Names | None = Field(default=None, description="Shown instead of '3号窗口'.")
    services: list[Slug] = Field(min_length=1, description="Services, in preference order.")
    clerks: WindowClerks | None = None
    opens: dt.time | None = Field(
        default=None,
        description="Opening time: the B clerk may sign in from then on if the A clerk has not.",
    )


class StaffMember(Strict):
    id: Slug
    name: Text
    staff_no: str | None = Field(default=None, max_length=32, description="工号")
    terminal_user: str | None = Field(
        default=None, max_length=24, description="User id on the attendance terminals."
    )


class AttendanceRules(Strict):
    """When staff are due; punches alternate in and out by their order in the day."""

    work_starts: dt.time = dt.time(9, 0)
    work_ends: dt.time = dt.time(17, 30)
    grace_minutes: int = Field(default=5, ge=0, le=120, description="Late or early by more.")
    workdays: list[int] = Field(
        default=[1, 2, 3, 4, 5], description="ISO weekdays staff are due: 1 Monday ... 7 Sunday."
    )


class Link(Strict):
    id: Slug
    url: str = Field(min_length=1, description="/dev/..., socket://host:port, rfc2217://...")
    baud: int = Field(default=9600, gt=0)
    refresh_spacing_seconds: float = Field(
        default=REFRESH_SPACING,
        ge=0,
        description="On an RS-485 bus: its devices' periodic re-sends and probes go this many "
        "seconds apart on average at the least, so on a bus of many devices each is re-sent "
        "less often than its refresh_seconds or probe_seconds (96 devices: every 120 s). "
        "Each such frame risks colliding with a key press, which then waits for its resend. "
        "0: every device at its own period.",
    )


class DeviceEntry(BaseModel):
    """A device's config entry; its `model` picks the schema for the other keys."""

    model_config = ConfigDict(extra="allow", frozen=True)
    id: Slug
    model: str


class Mqtt(Strict):
    broker: str = Field(
        default="embedded",
        description="embedded (a broker in the daemon, on loopback), mqtt://user:pass@host:port "
        "or mqtts://... for an external broker.",
    )
    ca_file: Path | None = Field(default=None, description="CA certificates for mqtts://.")
    prefix: str = Field(default="hallkeeper", min_length=1, description="Topics: PREFIX/HALL/...")
    health_seconds: float = Field(default=10.0, gt=0)

    @field_validator("broker")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        parse_broker(value)
        return value


class Api(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class Events(Strict):
    zmq_pub: str | None = Field(
        default="tcp://127.0.0.1:5557",
        description="ZeroMQ PUB endpoint for the event feed; null turns it off.",
    )


class Storage(Strict):
    path: Path = Field(description="SQLite file; relative paths are from the config file.")


class HallConfig(Strict):
    hall: HallInfo
    queue: QueueRules = QueueRules()
    services: list[Service] = Field(min_length=1)
    windows: list[Window] = Field(min_length=1)
    staff: list[StaffMember] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    devices: list[DeviceEntry] = Field(default_factory=list)
    texts: Texts = Field(default_factory=Texts, description="What screens show, per language.")
    ticket: TicketTemplate = Field(
        default_factory=TicketTemplate, description="What kiosk tickets say."
    )
    attendance: AttendanceRules = Field(default_factory=AttendanceRules)
    voice: Voice = Field(default_factory=Voice, description="Voice announcements: what is said.")
    mqtt: Mqtt | None = Field(default=None, description="The hall on MQTT; none: no MQTT.")
    api: Api = Api()
    events: Events = Events()
    storage: Storage
    secrets: Path = Field(description="Token file (created 0600); relative to the config file.")

    @cached_property
    def services_by_id(self) -> dict[str, Service]:
        return {s.id: s for s in self.services}

    @cached_property
    def windows_by_number(self) -> dict[int, Window]:
        return {w.number: w for w in self.windows}

    @cached_property
    def staff_by_id(self) -> dict[str, StaffMember]:
        return {s.id: s for s in self.staff}


C = TypeVar("C", bound=BaseModel)


def bus_link(entry: DeviceEntry) -> str | None:
    """The RS-485 link a device entry is on, None for a device with a connection
    of its own."""
    return entry.model_dump()["link"] if DEVICE_MODELS[entry.model].on_bus else None


def bus_devices(config: HallConfig) -> Counter[str]:
    """How many devices each RS-485 link carries: each keeps one standing
    picture there, re-sent periodically (`drivers.bus.refresh_period`)."""
    return Counter(link for entry in config.devices if (link := bus_link(entry)))


def entries_of(config: HallConfig, kind: type[C]) -> list[C]:
    """The device entries whose model has the config schema `kind` (the config
    is checked already)."""
    return [
        kind.model_validate(entry.model_dump())
        for entry in config.devices
        if (model := DEVICE_MODELS.get(entry.model)) and model.config_type is kind
    ]


def printers(config: HallConfig) -> list[PrinterConfig]:
    """The kiosk printers among the devices."""
    return entries_of(config, PrinterConfig)


def speakers(config: HallConfig) -> list[SpeakerConfig]:
    return entries_of(config, SpeakerConfig)


def spoken_languages(config: HallConfig, speaker: SpeakerConfig) -> list[str]:
    """What `speaker` says, in order: its own languages, else the voice
    section's, else the hall's first."""
    return speaker.languages or config.voice.languages or config.hall.languages[:1]
