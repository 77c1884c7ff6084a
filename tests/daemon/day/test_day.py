"""Whole simulated days: `hallkeeper simulate` and the daemon as processes, citizens
and clerks through the API and the simulated devices, faults, and the checks."""

import io
import json
from pathlib import Path

import pytest

from daemon.day.run import EXIT_BAD_INPUT, EXIT_PASSED, run_day
from daemon.day.settings import FAULT_KINDS

DEMO = Path(__file__).parents[3] / "config" / "demo.yaml"

SHORT_DAY = """
opens: "09:00"
closes: "12:00"
speed: 600
seed: 4
crowd:
  citizens: 30
  services: {social-security: 2, medical-insurance: 1}
clerks:
  windows: [1, 2, 3, 4]
faults:
  fixed:
    - {at: "09:30", kind: paper-out, target: kiosk-1-printer, minutes: 40}
    - {at: "10:30", kind: daemon-kill, minutes: 5}
"""

SOAK_DAY = """
speed: 240
seed: 11
crowd:
  citizens: 240
faults:
  random:
    count: 18
    minutes: {min: 3, max: 25}
"""


def play(tmp_path: Path, day: str) -> tuple[int, dict]:
    path = tmp_path / "day.yaml"
    path.write_text(day, encoding="utf-8")
    out = io.StringIO()
    code = run_day(DEMO, path, tmp_path / "run", {}, as_json=True, out=out)
    return code, json.loads(out.getvalue())


def failed(report: dict) -> str:
    """The checks that failed, with their problems, for the assertion message."""
    return "\n".join(f"{c['id']}: {problem}" for c in report["checks"] for problem in c["problems"])


@pytest.mark.process
def test_a_short_day_with_paper_out_and_a_daemon_killed_passes_its_checks(tmp_path):
    code, report = play(tmp_path, SHORT_DAY)
    assert code == EXIT_PASSED, failed(report)
    assert [c["id"] for c in report["checks"]] == [
        "tickets",
        "ratings",
        "punches",
        "screens",
        "events",
    ]
    assert report["daemon_restarts"] == 1
    assert [(f["kind"], f["note"]) for f in report["faults"]] == [
        ("paper-out", ""),
        ("daemon-kill", ""),
    ]
    assert report["tickets_received"] >= 25
    assert report["ratings"]["delivered"] > 0 and report["fingers"]["taken"] >= 8


def test_a_day_file_that_does_not_fit_the_hall_exits_2(tmp_path, capsys):
    path = tmp_path / "day.yaml"
    path.write_text("crowd:\n  kiosks: [kiosk-9]\n", encoding="utf-8")
    assert run_day(DEMO, path, tmp_path / "run", {}) == EXIT_BAD_INPUT
    assert f"{path}: crowd.kiosks[0]: no printer prints for 'kiosk-9'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.soak
def test_a_compressed_day_with_random_faults_of_every_kind_passes_its_checks(tmp_path):
    code, report = play(tmp_path, SOAK_DAY)
    assert code == EXIT_PASSED, failed(report)
    kinds = {f["kind"] for f in report["faults"]}
    assert kinds == set(FAULT_KINDS)  # every kind was played
    assert not [f for f in report["faults"] if f["note"]]
    assert report["tickets_received"] >= 200
