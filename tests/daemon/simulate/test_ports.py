"""The TCP ports a simulated hall keeps in its folder for the next run."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.simulate.ports import PORTS_NAME, earlier_ports, remember_ports


def test_the_ports_of_the_last_run_are_found_by_the_next(tmp_path: Path) -> None:
    remember_ports(tmp_path, {"kiosk-2-printer": 41963, "terminal-1": 40001})
    assert earlier_ports(tmp_path) == {"kiosk-2-printer": 41963, "terminal-1": 40001}


@pytest.mark.parametrize(
    "text", ["", "not json", "[41963]", '{"kiosk-2-printer": "41963", "terminal-1": 70000}']
)
def test_a_missing_or_foreign_file_gives_no_ports(tmp_path: Path, text: str) -> None:
    assert earlier_ports(tmp_path) == {}
    (tmp_path / PORTS_NAME).write_text(text, encoding="utf-8")
    assert earlier_ports(tmp_path) == {}
