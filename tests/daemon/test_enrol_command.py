"""`hallkeeper enroll` against a running daemon with a simulated reader."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml

from daemon.bench.daemon_process import DaemonProcess
from daemon.cli import main
from daemon.tokens import Role, TokenFile
from simulators.control import request
from simulators.ports import free_port
from tests.conftest import small_hall

pytestmark = pytest.mark.process


def test_enroll_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    document = small_hall(tmp_path) | {
        "api": {"host": "127.0.0.1", "port": port},
        "devices": [
            {"id": "reader-1", "model": "r30x-reader", "serial": {"device": "/dev/null"}},
        ],
    }
    config = tmp_path / "hall.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _, token = TokenFile(tmp_path / "secrets.yaml").add(Role.ADMIN)
    control = f"tcp://127.0.0.1:{free_port()}"
    daemon = DaemonProcess(config, args=["--simulate"], env={"HALLKEEPER_SIM_CONTROL": control})
    daemon.start()
    done = threading.Event()

    def touch() -> None:  # the staff member's finger, whenever the sensor is free
        while not done.is_set():
            shown = request(control, "show", device="reader-1")
            if shown["ok"] and shown["state"]["finger"] is None:
                request(control, "finger", reader="reader-1", staff="new-finger")
            time.sleep(0.05)

    toucher = threading.Thread(target=touch)
    try:
        toucher.start()  # --simulate enrolled s4 at start; this is a second finger
        code = main(["enroll", "--config", str(config), "--staff", "s4", "--reader", "reader-1",
                     "--page", "150", "--token", token])  # fmt: skip
    finally:
        done.set()
        if toucher.is_alive():
            toucher.join()
        daemon.stop()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "s4: enrolled on reader-1 at page 150" in out


def test_enroll_without_a_token_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HALLKEEPER_TOKEN", raising=False)
    config = tmp_path / "hall.yaml"
    config.write_text(yaml.safe_dump(small_hall(tmp_path)), encoding="utf-8")
    assert main(["enroll", "--config", str(config), "--staff", "s1", "--reader", "r"]) == 2
    assert "admin token" in capsys.readouterr().err
