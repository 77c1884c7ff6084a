"""`hallkeeper bench print` runs end to end and reports its figures as JSON.

Only that the figures exist and no ticket failed is checked here: the
latency goals are read off the benchmark's output, not asserted by tests."""

from __future__ import annotations

import json

import pytest

from daemon.cli import main
from devices.printer_config import TIBETAN_FONT

pytestmark = pytest.mark.process


def test_bench_print_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "print", "--tickets", "3"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [figures] = [json.loads(line) for line in lines]
    kinds = ["text", "image"] if TIBETAN_FONT.is_file() else ["text"]
    for kind in kinds:
        assert set(figures[kind]) == {"usb", "tcp", "serial"}
        for link, result in figures[kind].items():
            assert (result["tickets"], result["failed"]) == (3, 0), (kind, link)
            spread = result["issue_to_cut_ms"]
            assert 0 < spread["p50"] <= spread["p99"], (kind, link)
