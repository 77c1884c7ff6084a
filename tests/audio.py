"""Listening to what a speaker played, for tests: clip packs whose every
token is a tone of its own pitch, and the analysis that turns a WAV back
into the tokens heard, the silences between them and their lengths."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.audio.pack import write_pack
from drivers.audio.pcm import SILENCE_LEVEL, Audio, read_wav

TONE_SECONDS = 0.08
LOWEST_HZ = 1000.0  # above the chime's notes (659 and 784 Hz)
STEP_HZ = 40.0
SPEECH_LEVEL = 0.15  # a tone this loud has the RMS of espeak-ng's speech


@dataclass(frozen=True)
class Sound:
    start: float  # seconds into the file
    seconds: float
    hz: float  # the loudest frequency

    @property
    def end(self) -> float:
        return self.start + self.seconds


def tone(hz: float, seconds: float, rate: int, level: float = 0.5) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    return Audio(np.round(np.sin(2 * np.pi * hz * t) * level * 32767).astype(np.int16), rate)


def tone_pack(
    folder: Path, language: str, tokens: list[str], rate: int = 16000, first_hz: float = LOWEST_HZ
) -> dict[str, float]:
    """A pack in `folder` where token i is a tone of first_hz + i * STEP_HZ, as
    loud as speech; returns each token's pitch."""
    pitches = {token: first_hz + i * STEP_HZ for i, token in enumerate(tokens)}
    clips = {token: tone(hz, TONE_SECONDS, rate, SPEECH_LEVEL) for token, hz in pitches.items()}
    write_pack(folder, language, rate, clips, "test tones")
    return pitches


def read(path: Path) -> Audio:
    return read_wav(path.read_bytes(), str(path))


def sounds(audio: Audio, min_gap: float = 0.01) -> list[Sound]:
    """The stretches of sound, split at silences of at least `min_gap` seconds."""
    loud = np.abs(audio.samples.astype(np.int32)) > SILENCE_LEVEL
    edges = np.diff(np.concatenate([[0], loud.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs: list[list[int]] = []
    for start, end in zip(starts, ends, strict=True):
        if runs and start - runs[-1][1] < min_gap * audio.rate:
            runs[-1][1] = end
        else:
            runs.append([int(start), int(end)])
    return [
        Sound(start / audio.rate, (end - start) / audio.rate, _loudest_hz(audio, start, end))
        for start, end in runs
    ]


def heard(found: list[Sound], pitches: dict[str, float]) -> list[str]:
    """The token each sound is (by its pitch), or "?" for one that is none."""
    names = []
    for sound in found:
        token, hz = min(pitches.items(), key=lambda item: abs(item[1] - sound.hz))
        names.append(token if abs(hz - sound.hz) < STEP_HZ / 3 else "?")
    return names


def gaps(found: list[Sound]) -> list[float]:
    return [b.start - a.end for a, b in itertools.pairwise(found)]


def _loudest_hz(audio: Audio, start: int, end: int) -> float:
    chunk = audio.samples[start:end].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk)), n=max(len(chunk), 8192)))
    freqs = np.fft.rfftfreq(max(len(chunk), 8192), 1 / audio.rate)
    return float(freqs[int(np.argmax(spectrum))])
