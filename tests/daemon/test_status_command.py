"""`hallkeeper status` against a running daemon, as a monitoring script runs
it: the device table, and the exit code (0 all online, 1 not, 2 no daemon)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.bench.daemon_process import DaemonProcess
from tests.conftest import small_hall, unreachable_printer, write_config

pytestmark = pytest.mark.process


def status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", "status", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_exit_codes(tmp_path: Path) -> None:
    document = small_hall(tmp_path)
    everything_fine = write_config(tmp_path, document)
    daemon = DaemonProcess(everything_fine).start()
    try:
        shown = status(everything_fine)
        assert shown.returncode == 0, shown.stderr
        assert "全部 0 台设备在线 all devices online" in shown.stdout
        assert "社保 Social Security" in shown.stdout
    finally:
        daemon.stop()
    gone = status(everything_fine)
    assert gone.returncode == 2
    assert "the daemon is not running" in gone.stderr


def test_a_device_that_is_not_online_is_named_and_exits_1(tmp_path: Path) -> None:
    document = small_hall(tmp_path)
    document["devices"] = [unreachable_printer()]
    config = write_config(tmp_path, document)
    daemon = DaemonProcess(config).start()
    try:
        shown = status(config)
        as_json = status(config, "--json")
    finally:
        daemon.stop()
    assert shown.returncode == 1, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if "kiosk-1-printer" in line)
    assert "取号打印机" in row and "离线 offline" in row
    assert "1 台设备不在线 1 device(s) not online: kiosk-1-printer" in shown.stdout
    assert as_json.returncode == 1
    devices = json.loads(as_json.stdout)["health"]["devices"]
    assert [(d["id"], d["state"]) for d in devices] == [("kiosk-1-printer", "offline")]
