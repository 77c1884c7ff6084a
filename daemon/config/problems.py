"""A problem found in a hall config, named by key path and, once known, line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

KeyPath = tuple[str | int, ...]

_PYDANTIC_WORDING = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


@dataclass(frozen=True)
class Problem:
    path: KeyPath
    message: str
    line: int | None = None

    @property
    def where(self) -> str:
        return dotted(self.path) or "(document)"

    def render(self, file: str) -> str:
        place = f"{file}:{self.line}" if self.line else file
        return f"{place}: {self.where}: {self.message}"


def dotted(path: KeyPath) -> str:
    """('services', 2, 'prefix') -> 'services[2].prefix'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def problems_from_validation(exc: ValidationError, prefix: KeyPath = ()) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = (*prefix, *_key_path(error["loc"]))
        message = _PYDANTIC_WORDING.get(error["type"], error["msg"])
        if error["type"] == "value_error":  # our own validators' words, without pydantic's label
            message = message.removeprefix("Value error, ")
        if error["type"] not in _PYDANTIC_WORDING and not isinstance(error["input"], dict | list):
            message += f" (got {_short(error['input'])})"
        problems.append(Problem(path, message))
    return problems


def _key_path(loc: tuple[Any, ...]) -> KeyPath:
    """Drop pydantic's own loc parts ('[key]', union member names) from a loc."""
    return tuple(p for p in loc if isinstance(p, int) or not (p.startswith("[") or "[" in p))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
