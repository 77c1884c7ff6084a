"""`hallkeeper bench stop` runs end to end: the daemon stops under load with
exit code 0 and loses no answered ticket. How long it takes is read off the
benchmark's output, not asserted here."""

from __future__ import annotations

import json

import pytest

from daemon.cli import main

pytestmark = pytest.mark.process


def test_bench_stop_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "stop", "--runs", "1", "--load-seconds", "2", "--clients", "4"]
    assert main(args) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [figures] = [json.loads(line) for line in lines]
    assert figures["exit_codes"] == [0]
    assert figures["tickets_answered"] > 0
    assert figures["answered_but_missing_after_restart"] == 0
    assert figures["stop_seconds"]["max"] > 0
