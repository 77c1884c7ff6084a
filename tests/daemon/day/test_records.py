"""How long the day's end waits for screens to catch up with the engine."""

from __future__ import annotations

from pathlib import Path

from daemon.bench.hall_layout import write_bench_hall
from daemon.config.loader import load_config
from daemon.day.records import screens_catch_up


def test_screens_on_a_crowded_bus_are_given_its_longer_re_send_period(tmp_path: Path) -> None:
    """32 windows to a bus are 96 devices, re-sent every 96 x 1.25 s = 120 s;
    16 windows to a bus keep the screens' own 60 s."""
    crowded = load_config(write_bench_hall(tmp_path, 40, "tcp://127.0.0.1:5999").config)
    assert screens_catch_up(crowded) == 120.0
    quieter = write_bench_hall(tmp_path, 40, "tcp://127.0.0.1:5999", per_bus=16)
    assert screens_catch_up(load_config(quieter.config)) == 60.0
