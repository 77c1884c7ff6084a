"""Mono 16-bit PCM audio: what clips, announcements and sinks pass around.

Every clip of a pack and every synthesized word is turned into this one
shape (mono, signed 16-bit, the pack's sample rate) before it is joined, so
joining is concatenation and a sink gets exactly the samples a test reads back.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]

SILENCE_LEVEL = 256  # |sample| at or below this counts as silence (-42 dBFS)


class WavError(ValueError):
    """A WAV file this project cannot use; the message says why."""


@dataclass(frozen=True, eq=False)
class Audio:
    samples: Samples
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    def rms(self) -> float:
        if not len(self.samples):
            return 0.0
        return float(np.sqrt(np.mean(self.samples.astype(np.float64) ** 2)))


def silence(seconds: float, rate: int) -> Audio:
    return Audio(np.zeros(round(seconds * rate), dtype=np.int16), rate)


def join(parts: Iterable[Audio], rate: int) -> Audio:
    """The parts one after another; they must all be at `rate`."""
    arrays = []
    for part in parts:
        if part.rate != rate:
            raise ValueError(f"cannot join audio at {part.rate} Hz into audio at {rate} Hz")
        arrays.append(part.samples)
    samples = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int16)
    return Audio(samples.astype(np.int16, copy=False), rate)


def resample(audio: Audio, rate: int) -> Audio:
    """`audio` at another sample rate, by linear interpolation: enough for
    speech, which is all a fallback word is."""
    if audio.rate == rate or not len(audio.samples):
        return Audio(audio.samples, rate)
    count = round(len(audio.samples) * rate / audio.rate)
    old = np.arange(len(audio.samples)) / audio.rate
    new = np.arange(count) / rate
    return Audio(_clip16(np.interp(new, old, audio.samples.astype(np.float64))), rate)


def scaled(audio: Audio, gain: float) -> Audio:
    return Audio(_clip16(audio.samples.astype(np.float64) * gain), audio.rate)


def trimmed(audio: Audio, level: int = SILENCE_LEVEL) -> Audio:
    """`audio` without the silence before and after the sound: joins are then
    the gaps the hall configured, not whatever a recording or a synthesizer
    left at its ends."""
    loud = np.flatnonzero(np.abs(audio.samples.astype(np.int32)) > level)
    if not len(loud):
        return Audio(audio.samples[:0], audio.rate)
    return Audio(audio.samples[loud[0] : loud[-1] + 1], audio.rate)


def read_wav(data: bytes, where: str) -> Audio:
    """A mono 16-bit PCM WAV; `where` names it in the error for anything else.

    A streamed WAV (espeak-ng --stdout) has a placeholder data size in its
    header; the frames are read to the end of what is there.
    """
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise WavError(f"{where}: not a PCM WAV file ({exc})") from exc
    if channels != 1 or width != 2:
        raise WavError(
            f"{where}: {channels} channel(s) of {8 * width}-bit samples; "
            "clips must be mono 16-bit PCM"
        )
    whole = len(frames) - len(frames) % 2
    return Audio(np.frombuffer(frames[:whole], dtype="<i2").astype(np.int16), rate)


def wav_bytes(audio: Audio) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(audio.rate)
        wav.writeframes(audio.samples.astype("<i2").tobytes())
    return out.getvalue()


def _clip16(values: npt.NDArray[np.float64]) -> Samples:
    return np.clip(np.round(values), -32768, 32767).astype(np.int16)
