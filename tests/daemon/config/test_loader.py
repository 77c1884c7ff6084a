"""Loading hall configs: every problem named with its key path and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config.loader import ConfigError, check_config, load_config
from daemon.config.problems import Problem

REPO = Path(__file__).resolve().parents[3]

GOOD = """\
hall:
  id: t-hall
  names: {zh: 测试大厅, en: Test Hall}
services:
  - id: social
    names: {zh: 社保, en: Social}
    prefix: A
    opening_hours:
      - {start: 09:00, end: 13:30}
windows:
  - {number: 1, services: [social]}
storage: {path: state/hall.sqlite3}
secrets: state/secrets.yaml
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hall.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[int | None, str, str]]:
    return [(p.line, p.where, p.message) for p in check_config(write(tmp_path, text))]


@pytest.mark.parametrize("name", ["demo.yaml", "county-hall.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(REPO / "config" / name)
    assert config.services and config.windows


def test_the_demo_hall_has_8_windows_4_services_and_a_and_b_clerks() -> None:
    config = load_config(REPO / "config" / "demo.yaml")
    assert len(config.windows) == 8 and len(config.services) == 4
    assert all(set(s.names) >= {"zh", "en"} for s in config.services)
    assert all(w.clerks and w.clerks.a and w.clerks.b for w in config.windows)


def test_the_county_hall_has_33_windows_and_tibetan_names() -> None:
    config = load_config(REPO / "config" / "county-hall.yaml")
    assert len(config.windows) == 33 and len(config.services) >= 18
    assert config.hall.languages == ["zh", "bo", "en"]
    assert all("bo" in s.names for s in config.services)


def test_clock_times_are_times_not_base_60_numbers(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    period = config.services[0].opening_hours[0]
    assert (period.start, period.end) == (dt.time(9, 0), dt.time(13, 30))


def test_relative_paths_are_taken_from_the_config_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.storage.path == tmp_path / "state" / "hall.sqlite3"
    assert config.secrets == tmp_path / "state" / "secrets.yaml"


def test_an_unknown_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("    prefix: A\n", "    prefix: A\n    prefx: B\n")
    assert problems(tmp_path, text) == [(8, "services[0].prefx", "unknown key")]


def test_a_missing_key_is_named_at_its_parent(tmp_path: Path) -> None:
    text = GOOD.replace("    prefix: A\n", "")
    assert problems(tmp_path, text) == [(5, "services[0].prefix", "required key is missing")]


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    text = (
        GOOD.replace("prefix: A", "prefix: a1")
        .replace("{number: 1,", "{number: 0,")
        .replace("id: t-hall", "id: T Hall")
    )
    found = problems(tmp_path, text)
    assert [(line, where) for line, where, _ in found] == [
        (2, "hall.id"),
        (7, "services[0].prefix"),
        (11, "windows[0].number"),
    ]
    assert "'a1'" in found[1][2]


def test_yes_and_no_are_not_booleans(tmp_path: Path) -> None:
    text = GOOD.replace("names: {zh: 测试大厅, en: Test Hall}", "names: {zh: 大厅, no: Hall}")
    text = text.replace("  id: t-hall\n", "  id: t-hall\n  languages: [zh, no]\n")
    text = text.replace("{zh: 社保, en: Social}", "{zh: 社保, no: Sosial}")
    assert load_config(write(tmp_path, text)).hall.languages == ["zh", "no"]


def test_a_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = GOOD.replace("    prefix: A\n", "    prefix: A\n    prefix: B\n")
    assert problems(tmp_path, text) == [
        (8, "services[0].prefix", "key appears twice in this mapping")
    ]


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path, GOOD.replace("  - {number: 1, services: [social]}", "  - {number: 1")
    )
    assert len(found) == 1 and found[0][0] == 12 and "YAML syntax error" in found[0][2]


def test_references_between_sections_are_checked(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  - {number: 1, services: [social]}",
        "  - {number: 1, services: [social, passport], clerks: {a: ghost}}\n"
        "  - {number: 1, services: [social]}",
    )
    assert problems(tmp_path, text) == [
        (12, "windows[1].number", "1 is already used by windows[0]"),
        (11, "windows[0].services[1]", "no service has id 'passport'"),
        (11, "windows[0].clerks.a", "no staff member has id 'ghost'"),
    ]


def test_every_name_needs_every_hall_language(tmp_path: Path) -> None:
    text = GOOD.replace("{zh: 社保, en: Social}", "{zh: 社保}")
    assert problems(tmp_path, text) == [
        (6, "services[0].names", "no text for en (hall.languages is zh, en)")
    ]


def test_a_daily_limit_beyond_the_number_range_would_repeat_numbers(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    prefix: A\n", "    prefix: A\n    numbers: {last: 99}\n    daily_limit: 150\n"
    )
    [(line, where, message)] = problems(tmp_path, text)
    assert (line, where) == (5, "services[0]") and "issued twice" in message


def test_a_device_of_an_unknown_model_is_an_error(tmp_path: Path) -> None:
    text = GOOD + "devices:\n  - {id: screen-1, model: acme-9000}\n"
    [(line, where, message)] = problems(tmp_path, text)
    assert (line, where) == (15, "devices[0].model") and "acme-9000" in message


def test_an_unknown_time_zone_is_an_error(tmp_path: Path) -> None:
    text = GOOD.replace("  id: t-hall\n", "  id: t-hall\n  timezone: Asia/Lhasa_City\n")
    [(line, where, message)] = problems(tmp_path, text)
    assert (line, where) == (3, "hall.timezone") and "Asia/Lhasa_City" in message


def test_load_config_raises_with_every_problem_rendered(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("prefix: A", "prefix: 1"))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}:7: services[0].prefix: ")


def test_check_config_command_prints_each_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD.replace("prefix: A", "prefx: A"))
    assert main(["check-config", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{path}:5: services[0].prefix: required key is missing",
        f"{path}:7: services[0].prefx: unknown key",
    ]


def test_check_config_command_accepts_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    assert main(["check-config", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    assert check_config(tmp_path / "missing.yaml") == [
        Problem(
            (),
            f"cannot read the file: [Errno 2] No such file or directory: "
            f"'{tmp_path / 'missing.yaml'}'",
            None,
        )
    ]
