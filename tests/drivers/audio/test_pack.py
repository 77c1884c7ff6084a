"""Clip packs: the folder format a hall records into, and what a bad one says."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest

from drivers.audio.pack import MANIFEST, PackError, load_pack, write_pack
from drivers.audio.pcm import wav_bytes
from tests.audio import tone


def test_a_written_pack_reads_back_token_for_token(tmp_path: Path) -> None:
    clips = {token: tone(500 + 50 * i, 0.1, 16000) for i, token in enumerate(["请", "A", "一"])}
    clips["please/go"] = tone(900, 0.1, 16000)  # a token that cannot be a file name

    write_pack(tmp_path, "zh", 16000, clips, "recorded in the hall")
    pack = load_pack(tmp_path)

    assert (pack.language, pack.rate, pack.source) == ("zh", 16000, "recorded in the hall")
    assert pack.problems == []
    assert set(pack.clips) == set(clips)
    for token, audio in clips.items():
        found = pack.clip(token)
        assert found is not None and np.array_equal(found.samples, audio.samples)
    assert (tmp_path / "请.wav").is_file()


def test_a_clip_at_another_rate_is_left_out_and_named(tmp_path: Path) -> None:
    write_pack(tmp_path, "zh", 16000, {"请": tone(500, 0.1, 16000)}, "test")
    (tmp_path / "号.wav").write_bytes(wav_bytes(tone(500, 0.1, 44100)))

    pack = load_pack(tmp_path)

    assert pack.clip("号") is None
    assert pack.clip("请") is not None
    assert pack.problems == [
        f"{tmp_path / '号.wav'}: 44100 Hz; the pack's clips are 16000 Hz (pack.yaml)"
    ]


def test_a_broken_clip_is_left_out_and_named(tmp_path: Path) -> None:
    write_pack(tmp_path, "zh", 16000, {"请": tone(500, 0.1, 16000)}, "test")
    (tmp_path / "到.wav").write_bytes(b"RIFF not really")

    pack = load_pack(tmp_path)

    assert pack.clip("到") is None
    assert len(pack.problems) == 1 and "到.wav: not a PCM WAV" in pack.problems[0]


def test_clips_named_in_the_manifest_and_missing_ones(tmp_path: Path) -> None:
    (tmp_path / "go.wav").write_bytes(wav_bytes(tone(500, 0.1, 16000)))
    (tmp_path / MANIFEST).write_text(
        "language: en\nsample_rate: 16000\n"
        "clips: {please go to window: go.wav, number: number.wav}\n",
        encoding="utf-8",
    )

    pack = load_pack(tmp_path)

    assert pack.clip("please go to window") is not None
    assert pack.problems == [f"{tmp_path / MANIFEST}: clips.number: no file number.wav"]


def test_file_names_copied_from_a_mac_still_match(tmp_path: Path) -> None:
    write_pack(tmp_path, "zh", 16000, {}, "test")
    decomposed = unicodedata.normalize("NFD", "café")
    (tmp_path / f"{decomposed}.wav").write_bytes(wav_bytes(tone(500, 0.1, 16000)))

    assert load_pack(tmp_path).clip("café") is not None


def test_a_folder_without_a_manifest_is_not_a_pack(tmp_path: Path) -> None:
    with pytest.raises(PackError, match=r"not a clip pack \(no pack\.yaml\)"):
        load_pack(tmp_path)


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("language: zh\n", "sample_rate: Field required"),
        ("language: zh\nsample_rate: 500\n", "sample_rate: Input should be greater than or equal"),
        ("language: zh\nsample_rate: 16000\nrate: 1\n", "rate: Extra inputs are not permitted"),
        ("[unclosed", "cannot be read"),
    ],
)
def test_a_bad_manifest_says_which_key(tmp_path: Path, text: str, wrong: str) -> None:
    (tmp_path / MANIFEST).write_text(text, encoding="utf-8")

    with pytest.raises(PackError) as raised:
        load_pack(tmp_path)

    assert str(tmp_path / MANIFEST) in str(raised.value)
    assert wrong in str(raised.value)
