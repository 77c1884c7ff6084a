"""The benchmark's hall: a config the daemon accepts, 32 windows to a bus or fewer."""

from collections import Counter

import pytest

from daemon.bench.hall_layout import HALL_BUS, PROBE_SECONDS, write_bench_hall
from daemon.config.loader import load_config
from devices.config import KeypadConfig, PadConfig, WindowScreenConfig


def test_33_windows_make_two_buses_and_a_valid_config(tmp_path):
    hall = write_bench_hall(tmp_path, 33, "tcp://127.0.0.1:5999")
    config = load_config(hall.config)
    assert [w.number for w in config.windows] == list(range(1, 34))
    per_bus = Counter(d.link for d in config.devices if getattr(d, "window", None))
    assert per_bus == {"bus-1": 96, "bus-2": 3}
    hall_screen = next(d for d in config.devices if d.model == "imm-hall-screen")
    assert hall_screen.link == HALL_BUS
    assert [p.kiosk for p in config.devices if p.model == "escpos-printer"] == list(hall.kiosks)


def test_each_window_has_a_screen_keypad_and_pad_at_distinct_addresses(tmp_path):
    config = load_config(write_bench_hall(tmp_path, 300, "tcp://127.0.0.1:5999").config)
    on_bus = [d for d in config.devices if getattr(d, "window", None)]
    assert Counter(d.model for d in on_bus) == {
        "imm-window-screen": 300,
        "ff68-keypad": 300,
        "ff68-pad": 300,
    }
    assert len({d.link for d in on_bus}) == 10
    # keypads and pads share the FF68 address space, screens have their own
    slots = Counter((d.link, d.model.split("-")[0], d.address) for d in on_bus)
    assert max(slots.values()) == 1


def test_fewer_windows_to_a_bus_make_more_buses(tmp_path):
    hall = write_bench_hall(tmp_path, 300, "tcp://127.0.0.1:5999", per_bus=16)
    config = load_config(hall.config)
    per_bus = Counter(d.link for d in config.devices if getattr(d, "window", None))
    assert len(per_bus) == 19  # 18 of 16 windows, one of 12
    assert max(per_bus.values()) == 16 * 3 and min(per_bus.values()) == 12 * 3
    assert hall.windows_per_bus == 16


def test_more_than_32_windows_to_a_bus_is_refused(tmp_path):
    with pytest.raises(ValueError, match="windows per bus must be 1 to 32, got 33"):
        write_bench_hall(tmp_path, 300, "tcp://127.0.0.1:5999", per_bus=33)


def test_every_window_device_is_re_sent_or_probed_at_the_interval_asked(tmp_path):
    hall = write_bench_hall(tmp_path, 40, "tcp://127.0.0.1:5999", probe_seconds=120)
    config = load_config(hall.config)
    on_bus = [d for d in config.devices if getattr(d, "window", None)]
    intervals = {getattr(d, "refresh_seconds", None) or d.probe_seconds for d in on_bus}
    assert intervals == {120.0}
    # a keypad's changing count still rides with its probe, not alone in between
    assert {d.count_every_seconds for d in on_bus if d.model == "ff68-keypad"} == {120.0}
    assert hall.probe_seconds == 120


def test_by_default_the_window_devices_keep_a_hall_s_default_intervals():
    """The benchmark's hall is a hall as configured out of the box."""
    assert WindowScreenConfig.model_fields["refresh_seconds"].default == PROBE_SECONDS
    for model in (KeypadConfig, PadConfig):
        assert model.model_fields["probe_seconds"].default == PROBE_SECONDS
    assert KeypadConfig.model_fields["count_every_seconds"].default == PROBE_SECONDS
