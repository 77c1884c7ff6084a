"""PCM audio: reading the WAVs halls and espeak-ng make, and what joins need."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
import pytest

from drivers.audio.pcm import Audio, WavError, join, read_wav, resample, silence, trimmed, wav_bytes
from tests.audio import sounds, tone


def test_a_wav_comes_back_sample_for_sample() -> None:
    audio = tone(440, 0.25, 16000)

    again = read_wav(wav_bytes(audio), "clip.wav")

    assert again.rate == 16000
    assert np.array_equal(again.samples, audio.samples)


def test_a_streamed_wav_with_a_placeholder_size_is_read_to_its_end() -> None:
    # espeak-ng --stdout cannot know the length: its header says 0x7fffffff
    audio = tone(440, 0.3, 22050)
    data = bytearray(wav_bytes(audio))
    data[40:44] = struct.pack("<I", 0x7FFFFFFF)

    again = read_wav(bytes(data), "stdout")

    assert np.array_equal(again.samples, audio.samples)


@pytest.mark.parametrize(("channels", "width"), [(2, 2), (1, 1), (1, 3)])
def test_a_wav_that_is_not_mono_16_bit_is_refused_by_name(channels: int, width: int) -> None:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(16000)
        wav.writeframes(b"\0" * 64 * channels * width)

    with pytest.raises(WavError, match=r"voice/zh/请\.wav: .*mono 16-bit"):
        read_wav(out.getvalue(), "voice/zh/请.wav")


def test_text_is_not_a_wav() -> None:
    with pytest.raises(WavError, match=r"chime\.wav: not a PCM WAV"):
        read_wav(b"this is not audio", "chime.wav")


def test_resampling_keeps_length_and_pitch() -> None:
    audio = tone(500, 0.5, 22050)

    down = resample(audio, 16000)

    assert down.rate == 16000
    assert down.seconds == pytest.approx(0.5, abs=1 / 16000)
    assert sounds(down)[0].hz == pytest.approx(500, abs=5)


def test_trimming_takes_the_silence_off_both_ends_only() -> None:
    rate = 16000
    inner = join([tone(300, 0.1, rate), silence(0.05, rate), tone(300, 0.1, rate)], rate)
    padded = join([silence(0.2, rate), inner, silence(0.3, rate)], rate)

    cut = trimmed(padded)

    assert cut.seconds == pytest.approx(inner.seconds, abs=2 / rate)
    assert len(sounds(cut)) == 2  # the silence inside stays


def test_joining_audio_of_two_rates_is_refused() -> None:
    with pytest.raises(ValueError, match="16000 Hz into audio at 22050 Hz"):
        join([silence(0.1, 22050), silence(0.1, 16000)], 22050)


def test_loudness_is_the_rms() -> None:
    assert Audio(np.full(100, 1000, dtype=np.int16), 8000).rms() == pytest.approx(1000)
    assert silence(0.1, 8000).rms() == 0
