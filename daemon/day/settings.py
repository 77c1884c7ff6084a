"""The day file: how a simulated day of the hall goes (crowd, clerks, faults, clock).

Every key has a default, so `hallkeeper day --config HALL.yaml` runs without
one; `config/day.yaml` is the documented example. Times are hall clock times
("09:00"); durations are minutes of hall time; the clock runs `speed` times
faster than real time. A bad file is refused with its problems, each named by
file, line and key, as for a hall config.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from daemon.config.problems import Problem, problems_from_validation
from daemon.config.yaml_source import parse_yaml

FaultKind = Literal[
    "device-silent",
    "bus-unplug",
    "bus-echo",
    "paper-out",
    "cover-open",
    "broker-down",
    "daemon-kill",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(Strict):
    """A range of minutes of hall time; a value is drawn uniformly from it."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.max < self.min:
            raise ValueError(f"max ({self.max:g}) is less than min ({self.min:g})")
        return self


class CurvePoint(Strict):
    """From `at` until the next point, citizens arrive at `weight` relative to the others."""

    at: dt.time
    weight: float = Field(ge=0)


DEFAULT_CURVE = (
    CurvePoint(at=dt.time(9), weight=3),  # the morning peak
    CurvePoint(at=dt.time(10), weight=4),
    CurvePoint(at=dt.time(11), weight=2),
    CurvePoint(at=dt.time(12), weight=1),
    CurvePoint(at=dt.time(14), weight=2),
    CurvePoint(at=dt.time(15), weight=2),
    CurvePoint(at=dt.time(16), weight=1),
)


class Crowd(Strict):
    citizens: int = Field(default=80, ge=0, description="Citizens who come during the day.")
    curve: tuple[CurvePoint, ...] = Field(default=DEFAULT_CURVE, min_length=1)
    services: dict[str, float] = Field(
        default_factory=dict, description="Mix of services by weight; empty: all alike."
    )
    kiosks: tuple[str, ...] = Field(
        default=(), description="Kiosks citizens use; empty: every kiosk with a printer."
    )
    patience_minutes: Span = Span(min=30, max=120)
    ratings: dict[int, float] = Field(
        default_factory=lambda: {1: 70, 2: 20, 3: 6, 4: 3, 5: 1},
        description="Levels 1 (非常满意) to 5 (非常不满意) by weight.",
    )
    no_rating: float = Field(default=0.1, ge=0, le=1, description="Share who leave without rating.")

    @model_validator(mode="after")
    def _weights(self) -> Crowd:
        bad = [level for level in self.ratings if level not in range(1, 6)]
        if bad:
            raise ValueError(f"rating levels are 1-5, not {bad}")
        if sum(self.ratings.values()) <= 0:
            raise ValueError("the rating weights add up to nothing")
        if sum(p.weight for p in self.curve) <= 0:
            raise ValueError("the arrival curve's weights add up to nothing")
        times = [p.at for p in self.curve]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("the arrival curve's times must rise")
        return self


class Clerks(Strict):
    windows: tuple[int, ...] = Field(default=(), description="Staffed windows; empty: all.")
    service_minutes: dict[str, Span] = Field(
        default_factory=dict, description="Per service id; others take `default_minutes`."
    )
    default_minutes: Span = Span(min=4, max=12)
    transfer: float = Field(default=0.03, ge=0, le=1, description="Share transferred on.")
    pause: float = Field(default=0.03, ge=0, le=1, description="Share followed by a pause.")
    pause_minutes: Span = Span(min=5, max=15)


class FixedFault(Strict):
    at: dt.time
    kind: FaultKind
    target: str | None = Field(
        default=None, description="Device or bus id; chosen from the hall when left out."
    )
    minutes: float = Field(default=10, gt=0)


class RandomFaults(Strict):
    count: int = Field(default=0, ge=0, description="Faults drawn at random from the seed.")
    kinds: tuple[FaultKind, ...] = FAULT_KINDS
    minutes: Span = Span(min=3, max=20)


class Faults(Strict):
    fixed: tuple[FixedFault, ...] = ()
    random: RandomFaults = RandomFaults()


class DaySettings(Strict):
    opens: dt.time = dt.time(9)
    closes: dt.time = dt.time(17)
    speed: float = Field(
        default=180, gt=0, description="Hall seconds per real second (180: 9 hours in 3 min)."
    )
    seed: int = 1
    overtime_minutes: float = Field(
        default=90,
        ge=0,
        description="After closing, clerks call until the queue is empty or this is up.",
    )
    speakers: bool = Field(
        default=False, description="Keep the hall's speakers (each call is synthesized)."
    )
    crowd: Crowd = Crowd()
    clerks: Clerks = Clerks()
    faults: Faults = Faults()

    @model_validator(mode="after")
    def _hours(self) -> DaySettings:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) is not after opens ({self.opens})")
        return self

    @property
    def day_minutes(self) -> float:
        return _minutes(self.closes) - _minutes(self.opens)


def _minutes(time: dt.time) -> float:
    return time.hour * 60 + time.minute + time.second / 60


class DayFileError(Exception):
    """A day file with problems; `str()` names each with file, line and key."""

    def __init__(self, file: Path, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(str(file)) for p in problems))


def load_day(path: Path | None, overrides: dict[str, object] | None = None) -> DaySettings:
    """The day file at `path` (defaults when None), with top-level `overrides`
    (from the command line) applied."""
    data: dict[str, object] = {}
    doc = None
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DayFileError(path, [Problem((), f"cannot read the file: {exc}")]) from exc
        try:
            doc = parse_yaml(text)
        except yaml.YAMLError as exc:
            raise DayFileError(path, [Problem((), f"YAML syntax error: {exc}")]) from exc
        if doc.data is not None and not isinstance(doc.data, dict):
            raise DayFileError(path, [Problem((), "the file must be a YAML mapping", 1)])
        data = dict(doc.data or {})
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return DaySettings.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc)
        if doc is not None:
            problems = [Problem(p.path, p.message, doc.line_of(p.path)) for p in problems]
        raise DayFileError(path or Path("(defaults)"), problems) from exc
