"""The daemon's local status socket, for `hallkeeper status` on the gateway PC.

A Unix socket next to the store (`status.sock`), mode 0660: whoever may
open it (root, the daemon's user, members of its group) gets one JSON
document, the same health and queue bodies as `GET /api/v1/health` and
`GET /api/v1/queue`, and the connection is closed. It reads and changes
nothing, so file permissions are all the authentication it needs, and no
API token has to be kept on the PC for monitoring scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.api.views import health_out, queue_out
from daemon.hall import Hall
from daemon.runtime import DaemonInfo

log = logging.getLogger(__name__)

MODE = 0o660


def status_socket_path(storage: Path) -> Path:
    """Where the daemon whose store is at `storage` answers."""
    return storage.parent / "status.sock"


def hall_status(hall: Hall, info: DaemonInfo) -> dict[str, Any]:
    """What the socket answers: the bodies of GET /api/v1/health and /queue."""
    return {
        "health": health_out(hall, info).model_dump(mode="json"),
        "queue": queue_out(hall, limit=0).model_dump(mode="json"),
    }


class StatusSocket:
    def __init__(self, path: Path, document: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self._document = document
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; a failure is logged and costs only `hallkeeper status`."""
        if _answers(self.path):
            log.warning(
                "%s: another hallkeeper answers there; `hallkeeper status` reaches that one",
                self.path,
            )
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a daemon that was killed
        try:
            self._server = await asyncio.start_unix_server(self._answer, path=str(self.path))
            os.chmod(self.path, MODE)
        except OSError as exc:
            log.warning(
                "no status socket at %s (`hallkeeper status` will not work): %s", self.path, exc
            )
            await self.stop()

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(json.dumps(self._document(), ensure_ascii=False).encode())
            await writer.drain()
        except Exception:
            log.exception("status socket: answering failed")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class StatusUnavailable(Exception):
    """No daemon answered; the message says why in Chinese and English."""


def read_status(path: Path, timeout: float = 5.0) -> dict[str, Any]:
    """The document of the daemon listening at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        try:
            client.connect(str(path))
            chunks = []
            while chunk := client.recv(65536):
                chunks.append(chunk)
        except FileNotFoundError as exc:
            raise StatusUnavailable(
                f"守护进程未运行（没有 {path}） the daemon is not running (no {path})"
            ) from exc
        except ConnectionRefusedError as exc:
            raise StatusUnavailable(
                f"守护进程未运行（{path} 无人应答） the daemon is not running ({path} refused)"
            ) from exc
        except PermissionError as exc:
            raise StatusUnavailable(
                f"无权访问 {path}：请用 sudo，或把用户加入 hallkeeper 组 "
                f"no permission for {path}: use sudo, or join the hallkeeper group"
            ) from exc
        except OSError as exc:
            raise StatusUnavailable(f"守护进程无应答 no answer at {path}: {exc}") from exc
    try:
        document: dict[str, Any] = json.loads(b"".join(chunks))
    except ValueError as exc:
        raise StatusUnavailable(f"守护进程应答有误 a garbled answer at {path}: {exc}") from exc
    return document


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
