"""One language's words: from the pack, else from espeak-ng at the pack's rate and loudness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivers.audio.espeak import VOICES, available
from drivers.audio.pcm import scaled
from drivers.audio.voicebox import SYNTHESIS_RATE, Voicebox
from tests.audio import gaps, heard, sounds, tone_pack

needs_espeak = pytest.mark.skipif(not available(), reason="espeak-ng is not installed")


def test_a_phrase_is_the_pack_clips_in_order_with_the_gaps(tmp_path: Path) -> None:
    pitches = tone_pack(tmp_path, "zh", ["请", "A", "零", "一", "号到"])
    box = Voicebox("zh", tmp_path, None)
    box.load()

    phrase = box.phrase(("请", "A", "零", "零", "一", "号到"), 0.05)

    found = sounds(phrase)
    assert heard(found, pitches) == ["请", "A", "零", "零", "一", "号到"]
    assert gaps(found) == pytest.approx([0.05] * 5, abs=0.002)
    assert box.rate == 16000 and box.missing == {}


def test_a_token_the_pack_lacks_without_synthesis_is_missing_with_why(tmp_path: Path) -> None:
    tone_pack(tmp_path, "bo", ["གཅིག"])
    box = Voicebox("bo", tmp_path, None)
    box.load()

    phrase = box.phrase(("གཅིག", "A"), 0.05)

    assert len(sounds(phrase)) == 1
    assert box.missing == {"A": "not in the bo pack, and no synthesis"}


@needs_espeak
def test_a_token_the_pack_lacks_is_synthesized_at_its_rate_and_loudness(tmp_path: Path) -> None:
    pitches = tone_pack(tmp_path, "zh", ["请"])
    box = Voicebox("zh", tmp_path, VOICES["zh"])
    box.load()
    pack_level = box.say("请").rms()

    word = box.say("号窗口办理")

    assert word is not None and word.rate == 16000
    assert word.rms() == pytest.approx(pack_level, rel=0.05)
    assert box.synthesized == {"号窗口办理"} and box.missing == {}
    assert heard(sounds(box.phrase(("请",), 0.05)), pitches) == ["请"]


@needs_espeak
def test_without_a_pack_words_are_synthesized_at_espeak_rate() -> None:
    box = Voicebox("en", None, VOICES["en"])
    box.load()

    word = box.say("zero")

    assert word is not None and word.rate == SYNTHESIS_RATE == box.rate
    assert box.problems == []


def test_a_missing_pack_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    box = Voicebox("zh", tmp_path / "voice" / "zh", None)
    box.load()

    assert box.problems == [f"{tmp_path / 'voice' / 'zh'}: not a clip pack (no pack.yaml)"]
    assert box.rate == SYNTHESIS_RATE


def test_a_pack_for_another_language_is_a_problem(tmp_path: Path) -> None:
    tone_pack(tmp_path, "en", ["zero"])
    box = Voicebox("zh", tmp_path, None)
    box.load()

    assert box.problems == [f"{tmp_path}: a pack for 'en', used for 'zh'"]


def test_scaling_changes_loudness_only() -> None:
    from tests.audio import tone

    quiet = tone(440, 0.1, 8000, level=0.1)
    loud = scaled(quiet, 3.0)

    assert loud.rms() == pytest.approx(3 * quiet.rms(), rel=0.01)
    assert np.sign(loud.samples).tolist() == np.sign(quiet.samples).tolist()
