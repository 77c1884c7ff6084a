"""Terminals that push over HTTP (ADMS): the helper's simulated pusher against
the daemon's /iclock endpoints, in a daemon process."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import httpx
import pytest
import yaml

from daemon.bench.daemon_process import DaemonProcess
from daemon.tokens import Role, TokenFile
from simulators.ports import free_port
from simulators.zk import AdmsPusher
from tests.conftest import ZONE, small_hall

pytestmark = pytest.mark.process


def attendance(base: str, token: str) -> dict[str, int]:
    reply = httpx.get(f"{base}/api/v1/attendance", headers={"Authorization": f"Bearer {token}"})
    return {row["staff"]: row["punches"] for row in reply.json()["staff"]}


def until(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_punches_pushed_while_the_daemon_was_down_arrive_once(tmp_path: Path) -> None:
    port = free_port()
    staff = [
        {**m, "terminal_user": f"10{n}"} for n, m in enumerate(small_hall(tmp_path)["staff"], 1)
    ]
    document = small_hall(tmp_path) | {
        "api": {"host": "127.0.0.1", "port": port},
        "staff": staff,
        "devices": [{"id": "door-adms", "model": "zk-adms", "serial_number": "ADMS001"}],
    }
    config = tmp_path / "hall.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _, token = TokenFile(tmp_path / "secrets.yaml").add(Role.ADMIN)
    base = f"http://127.0.0.1:{port}"
    pusher = AdmsPusher(base, "ADMS001", retry_seconds=0.3, heartbeat_seconds=0.5)
    # a terminal's clock runs on the hall's local time
    now = dt.datetime.now(ZONE).replace(microsecond=0, tzinfo=None)
    pusher.start()
    daemon = DaemonProcess(config)
    try:
        pusher.punch("101", now)  # the daemon is not running yet
        pusher.punch("102", now + dt.timedelta(seconds=1))
        time.sleep(0.5)
        daemon.start()
        counts = until(lambda: (c := attendance(base, token))["s2"] == 1 and c)
        assert (counts["s1"], counts["s2"], counts["s3"]) == (1, 1, 0)

        # the terminal sends a batch again (its OK was lost): stored once
        line = f"101\t{now.isoformat(sep=' ')}\t0\t1\t0\t0\t0\n"
        again = httpx.post(f"{base}/iclock/cdata", params={"SN": "ADMS001", "table": "ATTLOG"},
                           content=line)  # fmt: skip
        assert again.text.startswith("OK")
        assert attendance(base, token)["s1"] == 1

        health = httpx.get(f"{base}/api/v1/health", headers={"Authorization": f"Bearer {token}"})
        [terminal] = [d for d in health.json()["devices"] if d["id"] == "door-adms"]
        assert terminal["state"] == "online" and terminal["details"]["punches"] == 2

        stranger = httpx.get(f"{base}/iclock/getrequest", params={"SN": "NOPE"})
        assert stranger.status_code == 403
        assert json.loads(stranger.text)["code"] == "unknown_terminal"
    finally:
        pusher.stop()
        daemon.stop()
