"""What a valid hall config asks for and will not get: said by check-config, not refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config.loader import load_config, notes_of
from daemon.config.notes import config_notes

WINDOWS = 17  # 51 devices on one bus: each re-sent or probed every 63.75 s at most


def hall(tmp_path: Path, link: str = "", **settings: str) -> Path:
    """A hall of WINDOWS windows on bus-1; `settings` adds keys to a device's entry."""
    devices = []
    for w in range(1, WINDOWS + 1):
        for kind, model, address in (
            ("screen", "imm-window-screen", w),
            ("keypad", "ff68-keypad", w),
            ("pad", "ff68-pad", 100 + w),
        ):
            keys = f"id: {kind}-{w}, model: {model}, link: bus-1, address: {address}, window: {w}"
            if extra := settings.get(f"{kind}_{w}"):
                keys += f", {extra}"
            devices.append(f"  - {{{keys}}}")
    text = "\n".join(
        [
            "hall: {id: t-hall, names: {zh: 测试大厅, en: Test Hall}}",
            "services:",
            "  - {id: social, names: {zh: 社保, en: Social}, prefix: A}",
            "windows:",
            *(f"  - {{number: {w}, services: [social]}}" for w in range(1, WINDOWS + 1)),
            "links:",
            f"  - {{id: bus-1, url: /dev/hallkeeper/bus-1{link}}}",
            "devices:",
            *devices,
            "storage: {path: state/hall.sqlite3}",
            "secrets: state/secrets.yaml",
        ]
    )
    path = tmp_path / "hall.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_a_period_shorter_than_a_crowded_bus_allows_is_noted_where_the_bus_is(
    tmp_path: Path,
) -> None:
    path = hall(tmp_path, keypad_1="probe_seconds: 30", screen_2="refresh_seconds: 90")
    [note] = notes_of(path)
    assert (note.where, note.line) == ("links[0].refresh_spacing_seconds", 23)
    assert note.message == (
        "note: bus-1 carries 51 devices, whose re-sends and probes go 1.25 s apart, so each "
        "at most every 63.75 s: devices[1].probe_seconds 30 take no effect (a smaller "
        "refresh_spacing_seconds, or 0, lets them)"
    )


def test_many_such_settings_are_counted_beyond_the_first_three(tmp_path: Path) -> None:
    settings = {f"keypad_{w}": "probe_seconds: 30, count_every_seconds: 20" for w in (1, 2, 3)}
    [note] = config_notes(load_config(hall(tmp_path, **settings)))
    assert (
        "devices[1].probe_seconds 30, devices[1].count_every_seconds 20, "
        "devices[4].probe_seconds 30 and 3 more take no effect"
    ) in note.message


@pytest.mark.parametrize(
    ("link", "settings"),
    [
        ("", {}),  # the defaults: the bus's own spacing is documented with them
        ("", {"keypad_1": "probe_seconds: 64"}),  # longer than the spaced period
        (", refresh_spacing_seconds: 0", {"keypad_1": "probe_seconds: 30"}),
    ],
)
def test_nothing_is_noted_when_every_period_is_kept(
    tmp_path: Path, link: str, settings: dict[str, str]
) -> None:
    assert notes_of(hall(tmp_path, link, **settings)) == []


def test_check_config_prints_the_note_and_passes_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = hall(tmp_path, pad_3="probe_seconds: 10")
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:23: links[0].refresh_spacing_seconds: note: bus-1 carries")
    assert "devices[8].probe_seconds 10 take no effect" in out[0]
    assert out[1:] == [f"{path}: ok"]
