"""`hallkeeper say` against a daemon process whose speaker writes WAV files:
what comes out is, sample for sample, the chime and the Mandarin pack's
clips in the order of the call, with the configured silences between."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from daemon.bench.daemon_process import DaemonProcess
from daemon.cli import main
from daemon.tokens import Role, TokenFile
from daemon.voice.pack_maker import make_pack
from devices.speaker_config import Voice
from drivers.audio.chime import chime
from drivers.audio.espeak import available
from drivers.audio.pack import load_pack
from drivers.audio.pcm import join, silence
from simulators.ports import free_port
from tests.audio import read
from tests.conftest import small_hall

pytestmark = pytest.mark.process
needs_espeak = pytest.mark.skipif(not available(), reason="espeak-ng is not installed")

TOKEN_GAP, PHRASE_GAP = 0.08, 0.5


@pytest.fixture
def daemon(tmp_path: Path) -> tuple[Path, str]:
    make_pack(Voice(), "zh", tmp_path / "zh")
    document = small_hall(tmp_path) | {
        "api": {"host": "127.0.0.1", "port": free_port()},
        "voice": {
            "speech": {"zh": {"pack": str(tmp_path / "zh")}},
            "token_gap_ms": round(TOKEN_GAP * 1000),
            "phrase_gap_ms": round(PHRASE_GAP * 1000),
        },
        "devices": [
            {"id": "speaker-hall", "model": "speaker",
             "file": {"folder": str(tmp_path / "out"), "realtime": False}},
        ],
    }  # fmt: skip
    config = tmp_path / "hall.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _, token = TokenFile(tmp_path / "secrets.yaml").add(Role.ADMIN)
    process = DaemonProcess(config).start()
    yield config, token
    process.stop()


@needs_espeak
def test_say_plays_the_call_on_the_speakers(
    daemon: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, token = daemon

    code = main(["say", "A001", "--window", "3", "--config", str(config), "--token", token])

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("speaker-hall: said, 2 time(s), ")
    (wav,) = (tmp_path / "out").glob("*-test-A001-w3.wav")
    played = read(wav)
    pack = load_pack(tmp_path / "zh")
    words = ["请", "A", "零", "零", "一", "号到", "三", "号窗口办理"]
    parts = []
    for word in words:
        clip = pack.clip(word)
        assert clip is not None, word
        parts += [silence(TOKEN_GAP, pack.rate), clip]
    phrase = join(parts[1:], pack.rate)
    gap = silence(PHRASE_GAP, pack.rate)
    expected = join([chime(pack.rate), gap, phrase, gap, phrase], pack.rate)
    assert played.rate == pack.rate
    assert played.seconds == pytest.approx(expected.seconds)
    assert np.array_equal(played.samples, expected.samples)


@needs_espeak
def test_say_names_a_window_the_hall_has_not(
    daemon: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config, token = daemon

    code = main(["say", "A001", "--window", "9", "--config", str(config), "--token", token])

    assert code == 1
    assert "没有9号窗口 / there is no window 9" in capsys.readouterr().err


def test_say_without_a_token_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HALLKEEPER_TOKEN", raising=False)
    config = tmp_path / "hall.yaml"
    config.write_text(yaml.safe_dump(small_hall(tmp_path)), encoding="utf-8")

    assert main(["say", "A001", "--window", "3", "--config", str(config)]) == 2
    assert "admin token" in capsys.readouterr().err
