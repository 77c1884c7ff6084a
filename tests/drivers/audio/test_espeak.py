"""espeak-ng, for the words a pack lacks (skipped where it is not installed)."""

from __future__ import annotations

import pytest

from drivers.audio.espeak import VOICES, Espeak, SynthesisError, available
from drivers.audio.pcm import SILENCE_LEVEL
from tests.audio import sounds

pytestmark = pytest.mark.skipif(not available(), reason="espeak-ng is not installed")


@pytest.mark.parametrize(("language", "text"), [("zh", "请"), ("zh", "号窗口办理"), ("en", "zero")])
def test_a_word_is_spoken_without_silence_around_it(language: str, text: str) -> None:
    audio = Espeak(VOICES[language]).say(text)

    assert audio.rate == 22050
    assert 0.1 < audio.seconds < 3.0
    assert sounds(audio)  # there is sound in it
    assert (
        abs(int(audio.samples[0])) > SILENCE_LEVEL and abs(int(audio.samples[-1])) > SILENCE_LEVEL
    )


def test_more_syllables_take_longer() -> None:
    espeak = Espeak(VOICES["zh"])

    assert espeak.say("号窗口办理").seconds > espeak.say("号").seconds


def test_the_mandarin_voice_reads_characters_without_switching_to_english() -> None:
    # espeak-ng 1.51's plain cmn voice reads 请 as "king three"; the voice we use does not
    tokens = ["请", "号到", "号窗口办理", "零", "一", "九", "A", "Z"]

    assert [t for t in tokens if Espeak(VOICES["zh"]).switches_language(t)] == []


def test_an_unknown_voice_is_named_in_the_error() -> None:
    with pytest.raises(SynthesisError, match=r"espeak-ng -v xx-nonesuch: .*does not exist"):
        Espeak("xx-nonesuch").say("hello")


def test_a_text_that_looks_like_an_option_is_said_not_obeyed() -> None:
    assert Espeak("en").say("--help").seconds > 0.1
