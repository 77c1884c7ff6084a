"""The Mandarin pack `make` makes with espeak-ng, and the token list for a recorded one."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cli import main
from daemon.voice.pack_maker import PackRefused, make_pack
from daemon.voice.script import pack_tokens
from devices.speaker_config import Voice, VoiceTemplates
from drivers.audio.espeak import available
from drivers.audio.pack import load_pack, write_pack
from drivers.audio.pcm import SILENCE_LEVEL
from tests.audio import tone
from tests.conftest import small_hall, write_config

needs_espeak = pytest.mark.skipif(not available(), reason="espeak-ng is not installed")


@needs_espeak
def test_the_mandarin_pack_holds_every_token_trimmed_at_one_rate(tmp_path: Path) -> None:
    voice = Voice(templates=VoiceTemplates(call={"zh": "请{ticket}号|到{window}号窗口|办理"}))

    report = make_pack(voice, "zh", tmp_path / "zh")
    pack = load_pack(tmp_path / "zh")

    assert report.clips == len(pack_tokens(voice, "zh")) == len(pack.clips)
    assert report.unsure == []
    assert report.source.startswith("espeak-ng 1.") and "cmn-latn-pinyin" in report.source
    assert (pack.language, pack.rate, pack.problems) == ("zh", 22050, [])
    assert {"请", "号", "到", "号窗口", "办理", "零", "十", "A", "Z"} <= set(pack.clips)
    for token, clip in pack.clips.items():
        assert 0.1 < clip.seconds < 2.0, token
        assert abs(int(clip.samples[0])) > SILENCE_LEVEL, f"{token} starts with silence"
        assert abs(int(clip.samples[-1])) > SILENCE_LEVEL, f"{token} ends with silence"


@needs_espeak
def test_a_recorded_pack_is_not_overwritten_unless_forced(tmp_path: Path) -> None:
    write_pack(tmp_path, "zh", 16000, {"请": tone(500, 0.2, 16000)}, "recorded by the hall")

    kept = r"recorded by the hall \(1 clips\): it is not overwritten"
    with pytest.raises(PackRefused, match=kept):
        make_pack(Voice(), "zh", tmp_path)
    assert load_pack(tmp_path).rate == 16000

    make_pack(Voice(), "zh", tmp_path, force=True)
    assert load_pack(tmp_path).rate == 22050


def test_tibetan_must_be_recorded(tmp_path: Path) -> None:
    with pytest.raises(PackRefused, match="espeak-ng has no voice for 'bo': record its pack"):
        make_pack(Voice(), "bo", tmp_path)


def test_the_tokens_to_record_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, small_hall(tmp_path))

    assert main(["voice-pack", "--config", str(config), "--language", "en", "--list"]) == 0

    listed = capsys.readouterr().out.splitlines()
    assert listed[:2] == ["Number.wav", "please go to window.wav"]
    assert {"zero.wav", "hundred.wav", "A.wav"} <= set(listed)


def test_without_a_folder_the_command_says_where_to_set_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, small_hall(tmp_path))

    assert main(["voice-pack", "--config", str(config)]) == 2
    assert "give --out, or voice.speech.zh.pack in" in capsys.readouterr().err
