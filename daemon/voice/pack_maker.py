"""`hallkeeper voice-pack`: a clip pack made offline with espeak-ng, or the
list of tokens a hall records for a pack of its own."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from daemon.voice.script import pack_tokens
from devices.speaker_config import Voice
from drivers.audio.espeak import EXECUTABLE, Espeak, SynthesisError
from drivers.audio.pack import MANIFEST, PackError, load_pack, write_pack
from drivers.audio.voicebox import SYNTHESIS_RATE

GENERATED = "espeak-ng"  # how a generated pack's `source` starts


class PackRefused(Exception):
    """The pack cannot be made there; the message says why."""


@dataclass
class PackReport:
    folder: Path
    source: str
    clips: int
    unsure: list[str] = field(default_factory=list)  # tokens espeak-ng read in another voice


def make_pack(voice: Voice, language: str, folder: Path, force: bool = False) -> PackReport:
    """Synthesize every token of `language` into a pack in `folder`. A
    recorded pack there is never overwritten unless `force`."""
    speech = voice.speech_of(language)
    name = speech.synthesis_voice(language)
    if name is None:
        raise PackRefused(f"espeak-ng has no voice for {language!r}: record its pack instead")
    _refuse_recorded(folder, force)
    espeak = Espeak(name, speech.speed)
    clips, unsure = {}, []
    for token in pack_tokens(voice, language):
        try:
            clips[token] = espeak.say(token)
            if espeak.switches_language(token):
                unsure.append(token)
        except SynthesisError as exc:
            raise PackRefused(str(exc)) from exc
    source = f"{GENERATED} {_espeak_version()} -v {name} -s {speech.speed}"
    write_pack(folder, language, SYNTHESIS_RATE, clips, source)
    return PackReport(folder, source, len(clips), unsure)


def _refuse_recorded(folder: Path, force: bool) -> None:
    if force or not (folder / MANIFEST).exists():
        return
    try:
        existing = load_pack(folder)
    except PackError:
        return  # not a usable pack: nothing to keep
    source = existing.source or ""
    if not source.startswith(GENERATED):
        raise PackRefused(
            f"{folder} holds a pack from {source or 'an unknown source'} "
            f"({len(existing.clips)} clips): it is not overwritten; --force to replace it"
        )


def _espeak_version() -> str:
    try:
        out = subprocess.run([EXECUTABLE, "--version"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    words = out.stdout.split()
    return next((w for w in words if w[:1].isdigit()), "?")
