"""`hallkeeper bench bus` runs end to end and reports its figures as JSON.

Only that the figures exist and no press was lost is checked here: the
latency goals are read off the benchmark's output, not asserted by tests."""

from __future__ import annotations

import json

import pytest

from daemon.cli import main

pytestmark = pytest.mark.process


def test_bench_bus_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "bus", "--windows", "4", "--seconds", "4", "--rate", "2"]
    assert main(argv) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [figures] = [json.loads(line) for line in lines]
    assert (figures["windows"], figures["devices"], figures["baud"]) == (4, 12, 9600)
    assert figures["presses"] > 0 and figures["lost"] == 0
    assert 0 < figures["latency_ms"]["p50"] <= figures["latency_ms"]["p99"]
    assert figures["ratio_to_wire"]["p50"] >= 1.0, "nothing beats the wire"
    assert figures["wire_ms"] > 0
