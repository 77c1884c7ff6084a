"""The local status socket: one JSON document per connection, mode 0660, a
socket left by a killed daemon replaced, clear errors when nobody answers."""

from __future__ import annotations

import asyncio
import socket
import stat
from pathlib import Path

import pytest

from daemon.status_socket import StatusSocket, StatusUnavailable, read_status

pytestmark = pytest.mark.anyio


async def test_answers_its_document_to_whoever_may_open_it(tmp_path: Path) -> None:
    path = tmp_path / "status.sock"
    server = StatusSocket(path, lambda: {"health": {"hall": "测试大厅"}})
    await server.start()
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o660
        document = await asyncio.to_thread(read_status, path)
        assert document == {"health": {"hall": "测试大厅"}}
    finally:
        await server.stop()
    assert not path.exists()


async def test_a_socket_left_by_a_killed_daemon_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "status.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))  # bound, never listening, as after SIGKILL
    server = StatusSocket(path, lambda: {"ok": True})
    await server.start()
    try:
        assert await asyncio.to_thread(read_status, path) == {"ok": True}
    finally:
        await server.stop()


def test_no_daemon_is_said_in_chinese_and_english(tmp_path: Path) -> None:
    with pytest.raises(StatusUnavailable, match=r"守护进程未运行.*the daemon is not running"):
        read_status(tmp_path / "status.sock")
