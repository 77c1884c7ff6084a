"""The daemon under a pretend systemd: a real notify socket, the watchdog
armed. READY=1 comes although a device is offline; the watchdog keeps being
fed while that device stays down, stops while the event loop is hung, and
resumes after; SIGTERM says STOPPING=1 and exits 0."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from daemon.bench.daemon_process import DaemonProcess
from tests.conftest import small_hall, unreachable_printer, write_config
from tests.notify_listener import NotifyListener
from tests.waiting import wait_for

pytestmark = pytest.mark.process

REPO = Path(__file__).resolve().parents[2]
BLOCK_SECONDS = 3.0


def test_watchdog_follows_the_event_loop_not_the_devices(
    tmp_path: Path, listener: NotifyListener
) -> None:
    document = small_hall(tmp_path)
    document["devices"] = [unreachable_printer()]
    env = {
        "NOTIFY_SOCKET": f"@{listener.name}",
        "WATCHDOG_USEC": "1000000",  # fed every 0.25 s while the loop wakes within 0.5 s
        "HALLKEEPER_TEST_BLOCK_SECONDS": str(BLOCK_SECONDS),
        "PYTHONPATH": str(REPO),
    }
    daemon = DaemonProcess(
        write_config(tmp_path, document), env=env, module="tests.daemon.loop_blocker"
    )
    daemon.start()
    try:
        ready = wait_for(lambda: listener.messages("READY=1"), 10, "READY=1")
        assert "STATUS=0/1 devices online" in ready[0]
        wait_for(
            lambda: any("kiosk-1-printer offline" in text for _, text in listener.received),
            10,
            "the printer reported offline",
        )
        fed = len(listener.pings())
        wait_for(lambda: len(listener.pings()) >= fed + 4, 10, "pings while the printer is down")

        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGUSR1)
        lines = wait_for(lambda: _block_times(daemon.output), 3 * BLOCK_SECONDS, "the block")
        blocked_at, freed_at = lines
        wait_for(lambda: [t for t in listener.pings() if t > freed_at], 10, "pings after the block")
    finally:
        code = daemon.stop()
    assert code == 0
    assert [t for t in listener.pings() if blocked_at + 0.3 < t < freed_at] == []
    assert listener.messages("STOPPING=1")


def _block_times(output: list[str]) -> tuple[float, float] | None:
    text = "".join(output)
    blocked = re.search(r"loop blocked at ([\d.]+)", text)
    freed = re.search(r"loop free at ([\d.]+)", text)
    if blocked and freed:
        return float(blocked.group(1)), float(freed.group(1))
    return None
