"""The systemd notify protocol against a real AF_UNIX datagram socket, as
systemd listens on one: a path, or a name in the abstract namespace."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.sd_notify import Notifier


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A socket path must fit in 108 bytes; pytest's tmp_path may not."""
    with tempfile.TemporaryDirectory(prefix="hk-") as folder:
        yield Path(folder)


def listening(address: str | bytes) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(2.0)
    return server


def test_a_path_socket_gets_the_fields_as_lines(short_dir: Path) -> None:
    path = short_dir / "notify"
    with listening(str(path)) as server:
        notifier = Notifier({"NOTIFY_SOCKET": str(path)})
        assert notifier.send(READY=1, STATUS="3/3 devices online")
        assert server.recv(4096) == b"READY=1\nSTATUS=3/3 devices online"
        notifier.close()


def test_an_abstract_socket_is_named_with_a_leading_at() -> None:
    name = f"hallkeeper-test-{uuid.uuid4().hex}"
    with listening(b"\0" + name.encode()) as server:
        notifier = Notifier({"NOTIFY_SOCKET": f"@{name}"})
        assert notifier.send(STOPPING=1)
        assert server.recv(4096) == b"STOPPING=1"
        notifier.close()


def test_status_text_is_sent_as_utf8(short_dir: Path) -> None:
    path = short_dir / "notify"
    with listening(str(path)) as server:
        Notifier({"NOTIFY_SOCKET": str(path)}).send(STATUS="设备在线 14/15")
        assert server.recv(4096).decode() == "STATUS=设备在线 14/15"


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.send(READY=1)
    assert notifier.watchdog_seconds is None


def test_a_socket_nobody_listens_on_is_a_failed_send_not_a_crash(short_dir: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(short_dir / "gone")})
    assert notifier.enabled
    assert not notifier.send(WATCHDOG=1)


@pytest.mark.parametrize(
    ("env", "seconds"),
    [
        ({"WATCHDOG_USEC": "20000000"}, 20.0),
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}, 20.0),
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}, None),  # for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_interval_is_systemds(env: dict[str, str], seconds: float | None) -> None:
    assert Notifier({"NOTIFY_SOCKET": "@x", **env}).watchdog_seconds == seconds
