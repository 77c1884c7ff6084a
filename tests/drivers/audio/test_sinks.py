"""Where announcements are heard: ALSA through aplay, WAV files, nowhere."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from drivers.audio.pcm import join
from drivers.audio.sinks import PLAYED_LOG, AlsaSink, FileSink, NullSink, SinkError
from tests.audio import read, tone

needs_aplay = pytest.mark.skipif(shutil.which("aplay") is None, reason="aplay is not installed")


def test_the_file_sink_keeps_an_announcement_as_played(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "speaker", realtime=False)
    parts = [tone(500, 0.1, 16000), tone(700, 0.2, 16000)]

    playback = sink.open("call-A001-w3", 16000)
    for part in parts:
        playback.write(part)
    playback.close()

    (wav,) = (tmp_path / "speaker").glob("*.wav")
    assert wav.name.endswith("-call-A001-w3.wav")
    assert np.array_equal(read(wav).samples, join(parts, 16000).samples)
    (line,) = (tmp_path / "speaker" / PLAYED_LOG).read_text().splitlines()
    entry = json.loads(line)
    assert entry["file"] == wav.name and entry["label"] == "call-A001-w3"
    assert entry["seconds"] == pytest.approx(0.3)
    assert dt.datetime.fromisoformat(entry["started"]) <= dt.datetime.fromisoformat(entry["ended"])


def test_the_file_sink_keeps_only_the_newest_files(tmp_path: Path) -> None:
    sink = FileSink(tmp_path, realtime=False, keep=3)
    for n in range(5):
        playback = sink.open(f"call-{n}", 8000)
        playback.write(tone(500, 0.01, 8000))
        playback.close()

    names = sorted(p.name for p in tmp_path.glob("*.wav"))
    assert [n.rsplit("-", 1)[1] for n in names] == ["2.wav", "3.wav", "4.wav"]
    assert len((tmp_path / PLAYED_LOG).read_text().splitlines()) == 5


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_that_cannot_be_written_is_an_error_that_names_it(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(SinkError, match=f"cannot write to {tmp_path}"):
            FileSink(tmp_path / "speaker").check()
    finally:
        tmp_path.chmod(0o700)


def test_a_file_in_the_way_of_the_folder_is_an_error_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "speaker").write_text("not a folder")

    with pytest.raises(SinkError, match=f"cannot write to {tmp_path / 'speaker'}"):
        FileSink(tmp_path / "speaker").open("call", 16000)


def test_the_null_sink_plays_into_nothing(tmp_path: Path) -> None:
    playback = NullSink(realtime=False).open("call", 16000)
    playback.write(tone(500, 0.1, 16000))
    playback.close()
    NullSink().check()


@needs_aplay
def test_aplay_plays_on_the_alsa_null_device() -> None:
    sink = AlsaSink("null")
    sink.check()
    playback = sink.open("call", 22050)
    playback.write(tone(500, 0.5, 22050))
    playback.close()


@needs_aplay
def test_an_alsa_device_that_does_not_exist_is_an_error_from_aplay() -> None:
    sink = AlsaSink("no-such-device")

    with pytest.raises(SinkError, match=r"aplay -D no-such-device: .*audio open error"):
        playback = sink.open("call", 22050)
        playback.write(tone(500, 0.5, 22050))
        playback.close()


def test_without_aplay_the_alsa_sink_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")

    with pytest.raises(SinkError, match=r"aplay is not installed \(Debian package alsa-utils\)"):
        AlsaSink("default").check()
