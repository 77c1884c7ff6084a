"""Clip packs: the recorded (or generated) words a hall's announcements are
joined from.

A pack is a folder:

    pack.yaml     language: zh
                  sample_rate: 22050
                  source: "recorded by ..., 2026"      (optional, free text)
                  clips: {"please go to window": go-to-window.wav}   (optional)
    请.wav        one WAV per token, named after the token,
    号到.wav      mono 16-bit PCM at sample_rate,
    一.wav        trimmed of silence at both ends (the hall sets the gaps)
    A.wav
    ...

A token is a word or phrase of a voice template, a number word (零 ... 九,
十, 百; zero ... nine, hundred) or a capital letter of a ticket's prefix. A
file whose name cannot be the token (a token with a slash, say) is mapped
under `clips`. A clip that does not fit is left out, with the reason, and its
token is synthesized like one the pack lacks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drivers.audio.pcm import Audio, WavError, read_wav, wav_bytes

MANIFEST = "pack.yaml"


class PackError(Exception):
    """A folder that is not a usable pack at all; the message says why."""


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str = Field(min_length=1)
    sample_rate: int = Field(ge=8000, le=96000)
    source: str | None = None
    clips: dict[str, str] = Field(default_factory=dict, description="token: file name")


@dataclass
class ClipPack:
    folder: Path
    language: str
    rate: int
    source: str | None = None
    clips: dict[str, Audio] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # clips left out, with why

    def clip(self, token: str) -> Audio | None:
        return self.clips.get(_normal(token))


def load_pack(folder: Path) -> ClipPack:
    """The pack in `folder`. Raises PackError when there is no usable
    manifest; a clip that does not fit is listed in `problems` instead."""
    manifest = _manifest(folder)
    pack = ClipPack(folder, manifest.language, manifest.sample_rate, manifest.source)
    named = {_normal(file): _normal(token) for token, file in manifest.clips.items()}
    for path in sorted(folder.glob("*.wav")):
        token = named.get(_normal(path.name), _normal(path.stem))
        try:
            audio = read_wav(path.read_bytes(), str(path))
        except (OSError, WavError) as exc:
            pack.problems.append(str(exc))
            continue
        if audio.rate != pack.rate:
            pack.problems.append(
                f"{path}: {audio.rate} Hz; the pack's clips are {pack.rate} Hz ({MANIFEST})"
            )
            continue
        pack.clips[token] = audio
    for token, file in manifest.clips.items():
        if not (folder / file).is_file():
            pack.problems.append(f"{folder / MANIFEST}: clips.{token}: no file {file}")
    return pack


def write_pack(
    folder: Path, language: str, rate: int, clips: dict[str, Audio], source: str
) -> None:
    """Write `clips` (all at `rate`) as a pack in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    mapped: dict[str, str] = {}
    for number, (token, audio) in enumerate(sorted(clips.items())):
        if audio.rate != rate:
            raise ValueError(f"clip {token!r} is at {audio.rate} Hz, the pack at {rate} Hz")
        name = f"{token}.wav"
        if "/" in token or "\0" in token or token.startswith("."):
            name = mapped[token] = f"clip-{number:03d}.wav"
        (folder / name).write_bytes(wav_bytes(audio))
    manifest = {"language": language, "sample_rate": rate, "source": source}
    if mapped:
        manifest["clips"] = mapped
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False)
    (folder / MANIFEST).write_text(text, encoding="utf-8")


def _manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PackError(f"{folder}: not a clip pack (no {MANIFEST})") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackError(f"{path}: cannot be read: {exc}") from exc
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        wrong = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PackError(f"{path}: {wrong}") from exc


def _normal(text: str) -> str:
    """Token names as one Unicode form: a pack copied from a Mac has its
    file names decomposed."""
    return unicodedata.normalize("NFC", text)
