"""`hallkeeper bench core` runs end to end and reports its figures as JSON.

Only that the figures exist and the run lost nothing is checked here: timing
goals are read off the benchmark's output, not asserted by tests."""

from __future__ import annotations

import json

import pytest

from daemon.cli import main

pytestmark = pytest.mark.process


def test_bench_core_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "core", "--tickets", "60", "--concurrency", "4", "--calls", "20"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [figures] = [json.loads(line) for line in lines]
    assert figures["tickets"] == 60 and figures["failed"] == 0
    assert figures["tickets_per_second"] > 0
    assert 0 < figures["call_next_ms"]["p50"] <= figures["call_next_ms"]["p99"]
    assert figures["fsync_ms"]["p50"] > 0
