"""The built-in chime before each call."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.audio.chime import TONE_SECONDS, TONES_HZ, chime
from drivers.audio.pcm import Audio
from tests.audio import sounds


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
def test_the_chime_is_two_falling_notes_without_clicks(rate: int) -> None:
    sound = chime(rate)
    half = round(TONE_SECONDS * rate)
    first = sounds(Audio(sound.samples[:half], rate))
    second = sounds(Audio(sound.samples[half:], rate))

    assert sound.rate == rate
    assert sound.seconds == pytest.approx(2 * TONE_SECONDS, abs=2 / rate)
    assert first[0].hz == pytest.approx(TONES_HZ[0], abs=10)
    assert second[0].hz == pytest.approx(TONES_HZ[1], abs=10)
    # it starts and ends at silence, so it does not click
    assert abs(int(sound.samples[0])) < 100 and abs(int(sound.samples[-1])) < 100
    assert np.abs(sound.samples.astype(np.int32)).max() < 0.5 * 32767
