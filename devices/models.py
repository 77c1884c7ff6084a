"""The device models a hall config can name, by `model` string.

A model pairs the pydantic schema of its config entry with the device class
that it builds. Device issues register their models here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class DeviceModel:
    name: str
    kind: str
    config_type: type[BaseModel]


DEVICE_MODELS: dict[str, DeviceModel] = {}
