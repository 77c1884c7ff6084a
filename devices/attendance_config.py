"""Config schemas for attendance devices: R30x fingerprint readers and
ZKTeco attendance terminals."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from devices.config import Slug, Strict


class ReaderSerial(Strict):
    device: str = Field(min_length=1, description="/dev/ttyUSB0 or a /dev/hallkeeper/... name")
    baud: int = Field(default=57600, gt=0)


class ReaderConfig(Strict):
    """An R30x fingerprint module (R307, R503, AS608, ZFM) on a serial line."""

    id: Slug
    model: str
    serial: ReaderSerial
    address: int = Field(default=0xFFFFFFFF, ge=0, le=0xFFFFFFFF)
    password: int = Field(default=0, ge=0, le=0xFFFFFFFF)
    capacity: int = Field(default=200, ge=1, le=3000, description="Template pages.")
    window: int | None = Field(
        default=None, description="The window whose clerk it signs in and out; none: a clock."
    )
    poll_seconds: float = Field(default=0.15, gt=0, description="GenImg while no finger.")
    reply_timeout: float = Field(default=0.5, gt=0, description="Wait for an answer.")


class TerminalTcp(Strict):
    host: str = Field(min_length=1)
    port: int = Field(default=4370, ge=1, le=65535)


class TerminalConfig(Strict):
    """A ZKTeco attendance terminal on TCP (live events, its log, its clock)."""

    id: Slug
    model: str
    tcp: TerminalTcp
    comm_key: int = Field(default=0, ge=0, description="The terminal's communication key.")
    silence_seconds: float = Field(
        default=60.0,
        gt=0,
        description="No packet for this long: reconnect and read the log for missed punches.",
    )
    time_sync: dt.time = Field(default=dt.time(3, 0), description="Daily clock sync.")


class AdmsConfig(Strict):
    """A terminal that pushes punches over HTTP (ADMS, /iclock/...), known by
    its serial number; punches from serial numbers not configured are refused."""

    id: Slug
    model: str
    serial_number: str = Field(min_length=1, max_length=64, description="The terminal's SN.")
