import datetime as dt
from pathlib import Path

import pytest

from daemon.day.settings import DayFileError, load_day


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "day.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_a_day_of_sensible_defaults():
    settings = load_day(None)
    assert (settings.opens, settings.closes) == (dt.time(9), dt.time(17))
    assert settings.crowd.citizens > 0
    assert settings.faults.fixed == () and settings.faults.random.count == 0


def test_the_example_day_file_loads():
    settings = load_day(Path(__file__).parents[3] / "config" / "day.yaml")
    assert settings.crowd.services["social-security"] == 4
    assert [f.kind for f in settings.faults.fixed] == [
        "paper-out",
        "device-silent",
        "bus-unplug",
        "daemon-kill",
    ]


def test_command_line_overrides_the_file(tmp_path):
    path = write(tmp_path, "speed: 60\nseed: 3\n")
    settings = load_day(path, {"speed": 900, "seed": None})
    assert settings.speed == 900 and settings.seed == 3


def test_an_unknown_key_is_named_with_file_and_line(tmp_path):
    path = write(tmp_path, "speed: 60\ncrowd:\n  citizens: 10\n  patience: 5\n")
    with pytest.raises(DayFileError) as caught:
        load_day(path)
    assert str(caught.value) == f"{path}:4: crowd.patience: unknown key"


def test_a_bad_value_names_its_key(tmp_path):
    path = write(tmp_path, "faults:\n  fixed:\n    - {at: '10:00', kind: meteor}\n")
    with pytest.raises(DayFileError) as caught:
        load_day(path)
    message = str(caught.value)
    assert f"{path}:3: faults.fixed[0].kind:" in message and "meteor" in message


def test_closing_before_opening_is_refused(tmp_path):
    path = write(tmp_path, 'opens: "17:00"\ncloses: "09:00"\n')
    with pytest.raises(DayFileError, match=r"closes .* is not after opens"):
        load_day(path)


def test_rating_levels_outside_the_scale_are_refused(tmp_path):
    path = write(tmp_path, "crowd:\n  ratings: {1: 5, 7: 1}\n")
    with pytest.raises(DayFileError, match=r"crowd: rating levels are 1-5, not \[7\]"):
        load_day(path)


def test_a_span_with_max_below_min_is_refused(tmp_path):
    path = write(tmp_path, "clerks:\n  default_minutes: {min: 10, max: 2}\n")
    with pytest.raises(DayFileError, match=r"clerks.default_minutes: max \(2\) is less than min"):
        load_day(path)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(DayFileError, match="must be a YAML mapping"):
        load_day(write(tmp_path, "- 1\n- 2\n"))
