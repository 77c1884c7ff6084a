"""Reading a hall config file: YAML, schema, cross-checks, relative paths."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from daemon.config.crossref import cross_check
from daemon.config.model import DeviceEntry, HallConfig, Storage
from daemon.config.notes import config_notes
from daemon.config.problems import Problem, problems_from_validation
from daemon.config.yaml_source import YamlDocument, parse_yaml
from devices.speaker_config import Voice


class ConfigError(Exception):
    """A config file with problems; `str()` lists every one with file and line."""

    def __init__(self, file: Path, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(str(file)) for p in problems))


def check_config(path: Path) -> list[Problem]:
    """Every problem with the config at `path`, each with its key path and line."""
    try:
        load_config(path)
    except ConfigError as exc:
        return exc.problems
    return []


def notes_of(path: Path) -> list[Problem]:
    """Settings of the valid config at `path` that take no effect
    (`daemon.config.notes`), each with its key path and line."""
    cfg = load_config(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"))
    return [_placed(note, doc) for note in config_notes(cfg)]


def load_config(path: Path) -> HallConfig:
    """The validated config at `path`, with its relative paths made absolute."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [Problem((), f"cannot read the file: {exc}")]) from exc
    try:
        doc = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(path, [_syntax_problem(exc)]) from exc
    problems = [Problem(p, "key appears twice in this mapping", line) for p, line in doc.duplicates]
    if not isinstance(doc.data, dict):
        raise ConfigError(path, [*problems, Problem((), "the file must be a YAML mapping", 1)])
    try:
        cfg = HallConfig.model_validate(doc.data)
    except ValidationError as exc:
        problems += problems_from_validation(exc)
    else:
        problems += cross_check(cfg)
    if problems:
        raise ConfigError(path, [_placed(p, doc) for p in problems])
    return _resolve_paths(cfg, path.resolve().parent)


def _placed(problem: Problem, doc: YamlDocument) -> Problem:
    if problem.line is not None:
        return problem
    return Problem(problem.path, problem.message, doc.line_of(problem.path))


def _syntax_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc)
    return Problem((), f"YAML syntax error: {reason}", line)


def _resolve_paths(cfg: HallConfig, base: Path) -> HallConfig:
    return cfg.model_copy(
        update={
            "storage": Storage(path=(base / cfg.storage.path).resolve()),
            "secrets": (base / cfg.secrets).resolve(),
            "voice": _voice_paths(cfg.voice, base),
            "devices": [_device_paths(entry, base) for entry in cfg.devices],
        }
    )


def _voice_paths(voice: Voice, base: Path) -> Voice:
    speech = {
        language: s.model_copy(update={"pack": (base / s.pack).resolve()}) if s.pack else s
        for language, s in voice.speech.items()
    }
    chime = (base / voice.chime).resolve() if voice.chime else None
    return voice.model_copy(update={"speech": speech, "chime": chime})


def _device_paths(entry: DeviceEntry, base: Path) -> DeviceEntry:
    """A speaker's file output folder, from the config's folder."""
    output = getattr(entry, "file", None)
    if entry.model != "speaker" or not isinstance(output, dict) or "folder" not in output:
        return entry
    folder = str((base / output["folder"]).resolve())
    return DeviceEntry.model_validate({**entry.model_dump(), "file": {**output, "folder": folder}})
