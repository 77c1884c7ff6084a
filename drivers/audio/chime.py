"""The two-tone chime (叮咚) before an announcement, when the hall has no
recording of its own."""

from __future__ import annotations

import numpy as np

from drivers.audio.pcm import Audio, join

TONES_HZ = (784.0, 659.3)  # G5, then E5: the usual "ding-dong"
TONE_SECONDS = 0.45
LEVEL = 0.35  # of full scale; speech clips peak higher, the chime should not startle


def chime(rate: int) -> Audio:
    return join((_bell(hz, rate) for hz in TONES_HZ), rate)


def _bell(hz: float, rate: int) -> Audio:
    """A struck tone: the note and a softer octave, fading out."""
    t = np.arange(round(TONE_SECONDS * rate)) / rate
    tone = np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(4 * np.pi * hz * t)
    attack = np.minimum(t / 0.005, 1.0)  # 5 ms in and 50 ms out: no clicks
    release = np.minimum((TONE_SECONDS - t) / 0.05, 1.0)
    envelope = np.exp(-t * 6.0) * attack * release
    samples = tone / 1.3 * envelope * LEVEL * 32767
    return Audio(np.round(samples).astype(np.int16), rate)
