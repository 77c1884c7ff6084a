"""`hallkeeper bench mqtt` runs end to end and reports its figures as JSON.

Only that the figures exist and every event arrived is checked here: the
goals are read off the benchmark's output, not asserted by tests."""

from __future__ import annotations

import json
import shutil

import pytest

from daemon.cli import main

pytestmark = pytest.mark.process


def test_bench_mqtt_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "mqtt", "--backlog", "200", "--latency-events", "10"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [figures] = [json.loads(line) for line in lines]
    brokers = ["embedded"] + (["mosquitto"] if shutil.which("mosquitto") else [])
    for broker in brokers:
        result = figures[broker]
        # every event of the backlog reached the subscriber, but for those the
        # embedded broker sent before the subscriber could connect to it
        assert result["missing"] == 0, broker
        assert result["backlog_received"] + result["sent_before_subscribed"] >= 200, broker
        if broker == "mosquitto":
            assert result["sent_before_subscribed"] == 0
        assert result["events_per_second"] > 0, broker
        assert result["latency_events"] == 10, broker
        spread = result["event_to_subscriber_ms"]
        assert 0 < spread["p50"] <= spread["p99"], broker
