"""Queue records to SQLite rows and back, by their dataclass fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import sqlite3
import types
import typing
from typing import Any, TypeVar

R = TypeVar("R")


def columns(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def to_row(record: Any) -> tuple[Any, ...]:
    return tuple(_to_sql(getattr(record, name)) for name in columns(type(record)))


def from_row(cls: type[R], row: sqlite3.Row | tuple[Any, ...]) -> R:
    hints = _hints(cls)
    pairs = zip(columns(cls), row, strict=True)
    values = {name: _from_sql(hints[name], value) for name, value in pairs}
    return cls(**values)


def _to_sql(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date):  # dates and datetimes
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _from_sql(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    target = _non_optional(hint)
    if target is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if target is dt.date:
        return dt.date.fromisoformat(value)
    if target is bool:
        return bool(value)
    if isinstance(target, type) and issubclass(target, enum.Enum):
        return target(value)
    return value


def _non_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)
