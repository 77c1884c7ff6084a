"""Config schemas for voice announcements: the hall's `voice` section (what is
said, in which languages, from which clip packs) and its `speaker` devices
(where it is heard)."""

from __future__ import annotations

import string
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator

from devices.config import LanguageTag, Names, Slug, Strict, Text
from drivers.audio.espeak import VOICES

TEMPLATE_PLACEHOLDERS = {"ticket", "window"}
CALL = {
    "zh": "请{ticket}号到{window}号窗口办理",
    "en": "Number {ticket}, please go to window {window}",
}


class Reading(StrEnum):
    """How a number is said."""

    DIGITS = "digits"  # A001: 零零一
    WHOLE = "whole"  # A001: 一; window 12: 十二


class Speech(Strict):
    """How one language is said: clips from a pack, the rest by espeak-ng."""

    pack: Path | None = Field(
        default=None,
        description="Clip pack folder (pack.yaml and a WAV per token); relative to the config.",
    )
    synthesis: str | None = Field(
        default=None,
        description="espeak-ng voice for tokens the pack lacks; the language's usual one if "
        "unset (zh: cmn-latn-pinyin, en: en). 'none': never synthesize.",
    )
    speed: int = Field(default=150, ge=80, le=450, description="Synthesis words per minute.")
    tickets: Reading = Field(default=Reading.DIGITS, description="Ticket numbers: A001 零零一.")
    windows: Reading = Field(default=Reading.WHOLE, description="Window numbers: 12 十二.")

    def synthesis_voice(self, language: str) -> str | None:
        """The espeak-ng voice for `language`'s missing tokens, or None."""
        if self.synthesis == "none":
            return None
        return self.synthesis or VOICES.get(language)


class VoiceTemplates(Strict):
    """What is said, per language. `{ticket}` and `{window}` are read out as
    words; the text between them is said as it is written, each run one token
    of the clip pack, and `|` cuts a run into several tokens."""

    call: Names = Field(default_factory=lambda: dict(CALL))
    recall: Names = Field(default_factory=lambda: dict(CALL))

    @model_validator(mode="after")
    def _known_placeholders(self) -> VoiceTemplates:
        for key in ("call", "recall"):
            for language, template in getattr(self, key).items():
                used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
                if used - TEMPLATE_PLACEHOLDERS:
                    unknown = ", ".join("{" + u + "}" for u in sorted(used - TEMPLATE_PLACEHOLDERS))
                    raise ValueError(f"{key}.{language} uses {unknown}; it may use {{ticket}}, "
                                     "{window}")  # fmt: skip
        return self


class Voice(Strict):
    """The hall's `voice` section."""

    languages: list[LanguageTag] | None = Field(
        default=None,
        description="Languages said, in order, each after the other; the hall's first if unset.",
    )
    templates: VoiceTemplates = Field(default_factory=VoiceTemplates)
    speech: dict[LanguageTag, Speech] = Field(
        default_factory=dict, description="Per language: clip pack, synthesis, number reading."
    )
    repeats: int = Field(default=2, ge=1, le=5, description="Times each call is said.")
    chime: Path | None = Field(
        default=None, description="A WAV played before each call; a two-tone chime if unset."
    )
    token_gap_ms: int = Field(default=60, ge=0, le=1000, description="Silence between tokens.")
    phrase_gap_ms: int = Field(
        default=700, ge=0, le=5000, description="Silence after the chime and between phrases."
    )
    max_age_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A call waiting longer than this to be said is dropped, not said late.",
    )

    def speech_of(self, language: str) -> Speech:
        return self.speech.get(language) or Speech()


class AlsaOutput(Strict):
    device: str = Field(default="default", min_length=1, description="ALSA PCM: plughw:1,0 …")


class FileOutput(Strict):
    folder: Path = Field(description="Each announcement a WAV here; relative to the config.")
    realtime: bool = Field(default=True, description="Take as long as the sound would.")
    keep: int = Field(default=500, ge=1, description="WAV files kept; the oldest go first.")


class MuteOutput(Strict):
    """Plays into nothing (the null sink). Not called `null`: YAML reads that key as null."""

    realtime: bool = True


class SpeakerConfig(Strict):
    """Loudspeakers of one zone of the hall, on exactly one of alsa, file, mute."""

    id: Slug
    model: str
    zone: Text | None = Field(default=None, description="Where it is heard, for people.")
    windows: list[int] | None = Field(
        default=None, description="Windows whose calls it says; every window if unset."
    )
    languages: list[LanguageTag] | None = Field(
        default=None, description="Languages it says, in order; voice.languages if unset."
    )
    alsa: AlsaOutput | None = None
    file: FileOutput | None = None
    mute: MuteOutput | None = None
    retry_seconds: float = Field(
        default=30.0, gt=0, description="How often a failed output is tried again."
    )

    @model_validator(mode="after")
    def _one_output(self) -> SpeakerConfig:
        given = [name for name in ("alsa", "file", "mute") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of alsa, file, mute (given: {given or 'none'})")
        return self

    def says_window(self, window: int) -> bool:
        return self.windows is None or window in self.windows
