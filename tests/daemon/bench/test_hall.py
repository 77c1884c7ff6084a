"""`hallkeeper bench hall` runs a small hall end to end and reports its figures
and checks as one JSON object.

The figures are checked for what must hold on any machine (nothing beats the
wire, every call and rating was timed, the checks passed), not for the goals:
those are read off the benchmark's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from daemon.bench.call_parts import PARTS, CallParts
from daemon.bench.hall import goals, slow_calls, store_commits
from daemon.bench.hall_layout import BAUD
from daemon.bench.hall_workload import SlowCall, Timings
from daemon.bench.process_usage import Usage
from daemon.cli import main
from daemon.metrics import COMMIT_BUCKETS
from drivers.ff68 import codec as ff68

pytestmark = pytest.mark.process


def test_bench_hall_times_calls_tickets_and_ratings_and_passes_the_checks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["bench", "hall", "--windows", "3", "--minutes", "0.3", "--service-seconds", "3"]
    code = main(
        [*argv, "--windows-per-bus", "2", "--probe-seconds", "30", "--folder", str(tmp_path)]
    )
    [figures] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "{" in line]
    assert code == 0, figures["checks"]
    assert figures["folder"] == str(tmp_path) and list(tmp_path.iterdir()) == []
    assert (figures["windows"], figures["windows_per_bus"]) == (3, 2)
    assert figures["probe_seconds"] == 30
    assert (figures["buses"], figures["devices"]) == (3, 12)  # and the hall screen's bus
    assert figures["calls"] >= 3 and figures["ratings"] >= 3
    assert figures["misses"] == {}
    wire = figures["wire_ms"]["p50"]
    slow = figures["calls_over_2x_wire"]
    assert len(figures["slowest_calls"]) == min(slow, 10) and slow <= figures["calls"]
    assert sum(figures["calls_over_2x_wire_by_cause"].values()) == slow
    typical = figures["call_parts_p50_ms"]  # where a call's time goes, as a rule
    assert typical["bus_before_key_ms"] >= 0 and typical["key_resends_ms"] == 0
    key_frame = ff68.encode(ff68.key_press(1, ff68.KEY_CALL))
    assert typical["key_to_stored_ms"] >= len(key_frame) * 10 / BAUD * 1000  # nothing beats it
    assert typical["stored_to_screen_ms"] > 0
    for call in figures["slowest_calls"]:  # split where the time went
        assert call["ms"] > 2 * wire
        if call["cause"] != "unknown":
            parts = [call[f"{name}_ms"] for name in PARTS]
            assert abs(sum(parts) - call["ms"]) < 0.5
            assert call["cause"] in PARTS
    assert figures["key_to_screen_ms"]["p50"] >= figures["wire_ms"]["p50"] > 0
    assert figures["ratio_to_wire"]["p50"] >= 1.0, "nothing beats the wire"
    assert figures["tickets_printed"] > 0 and figures["issue_to_cut_ms"]["p50"] > 0
    assert figures["rating_to_stored_ms"]["p50"] > 0
    assert figures["daemon"]["peak_rss_mb"] > 20 and figures["daemon"]["cpu_seconds"] > 0
    commits = figures["store_commits"]
    assert commits["count"] >= figures["calls"] / 2  # each call waited for one, maybe shared
    assert commits["count"] >= commits["over_50_ms"] >= commits["over_100_ms"] >= 0
    assert [c["id"] for c in figures["checks"]] == ["tickets", "ratings", "screens", "events"]
    assert figures["passed"] is True


def test_more_than_32_windows_to_a_bus_is_refused_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["bench", "hall", "--windows-per-bus", "40"])
    assert stopped.value.code == 2
    assert "--windows-per-bus: must be 1 to 32, got 40" in capsys.readouterr().err


def test_the_goals_are_reported_against_the_figures() -> None:
    timings = Timings(ratio_to_wire=[1.1] * 98 + [2.5, 3.0])
    report = goals(timings, Usage(cpu_seconds=30.0, wall_seconds=100.0, peak_rss_mb=150.0))
    assert report == {
        "cpu_under_25_percent": False,
        "peak_rss_under_200_mb": True,
        "key_to_screen_p99_within_2x_wire": False,
    }
    assert goals(Timings(), Usage(1.0, 100.0, 90.0))["key_to_screen_p99_within_2x_wire"] is None


def test_commits_over_the_measured_minutes_are_counted_by_how_long_they_took() -> None:
    registry = CollectorRegistry()
    histogram = Histogram(
        "hallkeeper_store_commit_seconds", "", buckets=COMMIT_BUCKETS, registry=registry
    )
    histogram.observe(0.3)  # before the measured minutes: not counted
    before = generate_latest(registry).decode()
    for seconds in (0.001, 0.002, 0.07, 0.12, 0.3):
        histogram.observe(seconds)
    after = generate_latest(registry).decode()
    assert store_commits(before, after) == {
        "count": 5,
        "over_50_ms": 3,
        "over_100_ms": 2,
        "over_250_ms": 1,
    }
    assert store_commits(None, after) is None


def test_slow_calls_are_counted_by_the_part_that_made_them_slow() -> None:
    usual = CallParts(0.005, 0.0, 0.015, 0.045)
    lost_key = CallParts(0.005, 0.262, 0.016, 0.045)
    held_commit = CallParts(0.005, 0.0, 0.300, 0.045)
    timings = Timings(
        call_parts=[usual] * 20 + [lost_key, held_commit],
        slow_calls=[
            SlowCall(3, 0.328, lost_key),
            SlowCall(1, 0.365, held_commit),
            SlowCall(2, 0.120, None),  # its event came too late to split it
        ],
    )
    report = slow_calls(timings)
    assert report["call_parts_p50_ms"] == usual.ms()
    assert report["calls_over_2x_wire_by_cause"] == {
        "key_resends": 1,
        "key_to_stored": 1,
        "unknown": 1,
    }
    assert [(c["window"], c["cause"]) for c in report["slowest_calls"]] == [
        (1, "key_to_stored"),
        (3, "key_resends"),
        (2, "unknown"),
    ]
    assert report["slowest_calls"][0]["key_to_stored_ms"] == 300.0
