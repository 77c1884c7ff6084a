"""A lean HTTP/1.1 keep-alive client for benchmarks.

httpx spends about a millisecond of CPU per request, so on a two-core
gateway PC a benchmark driven by it measures httpx, not the daemon. This
client writes a prepared request and reads one Content-Length response per
call on a kept-alive connection: just enough for load against our own API,
whose every answer carries Content-Length.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class Connection:
    def __init__(self, base_url: str) -> None:
        self._parts = urlsplit(base_url)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        connection = cls(base_url)
        await connection._connect()
        return connection

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(
            self._parts.hostname, self._parts.port
        )

    async def request(
        self, method: str, path: str, token: str, body: Any = None
    ) -> tuple[int, bytes]:
        """One request; if the server had closed the idle connection (its
        keep-alive timeout), once more on a new one."""
        try:
            return await self._request(method, path, token, body)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            await self.close()
            await self._connect()
            return await self._request(method, path, token, body)

    async def _request(self, method: str, path: str, token: str, body: Any) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self._writer.write(head.encode() + payload)
        status_line = await self._reader.readuntil(b"\r\n")
        length = 0
        while (line := await self._reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self._reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
