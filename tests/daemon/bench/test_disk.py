"""`hallkeeper bench disk` times the store's commits on a disk, at a hall's pace."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from daemon.bench.disk import commit_at_pace
from daemon.cli import main


def test_bench_disk_times_commits_in_a_scratch_store_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["bench", "disk", "--folder", str(tmp_path), "--minutes", "0.05", "--rate", "20"]) == 0
    )
    figures = json.loads(capsys.readouterr().out)
    assert figures["bench"] == "disk" and figures["folder"] == str(tmp_path)
    assert 50 <= figures["commits"] <= 61  # 3 s at 20 a second
    commit = figures["commit_ms"]
    assert 0 < commit["p50"] <= commit["p99"] <= commit["max"]
    assert (
        figures["commits"]
        >= figures["over_50_ms"]
        >= figures["over_100_ms"]
        >= figures["over_250_ms"]
    )
    slowest = [c["ms"] for c in figures["slowest"]]
    assert len(slowest) == 5 and slowest == sorted(slowest, reverse=True)
    assert slowest[0] == pytest.approx(commit["max"], abs=0.1)
    assert list(tmp_path.iterdir()) == []  # the scratch store is gone


def test_a_folder_that_is_not_there_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-disk"
    with pytest.raises(SystemExit) as stopped:
        main(["bench", "disk", "--folder", str(missing)])
    assert stopped.value.code == 2
    assert f"--folder: no such folder: {missing}" in capsys.readouterr().err


class StallingStore:
    """Stands in for the store: its first commit takes 0.3 s, the rest none."""

    def __init__(self) -> None:
        self.started: list[float] = []

    def write(self, batch: object) -> None:
        self.started.append(time.monotonic())
        if len(self.started) == 1:
            time.sleep(0.3)


def test_commits_missed_during_a_stall_are_not_made_up_in_a_burst() -> None:
    store = StallingStore()
    commits = commit_at_pace(store, seconds=1.0, rate=20)  # type: ignore[arg-type]
    assert len(commits) == len(store.started) <= 16  # 20 without the stall
    after_stall = [b - a for a, b in zip(store.started[1:], store.started[2:], strict=False)]
    assert min(after_stall) >= 0.045
    assert commits[0][1] >= 300
