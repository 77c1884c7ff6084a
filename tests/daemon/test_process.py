"""The daemon as a process: SIGKILL in the middle of a burst of tickets loses
nothing that was acknowledged, and numbering carries on without reuse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from daemon.bench.daemon_process import DaemonProcess
from daemon.tokens import Role, TokenFile
from tests.conftest import small_hall, write_config

pytestmark = pytest.mark.process


def hall_config(tmp_path: Path) -> Path:
    document = small_hall(tmp_path)
    for service in document["services"]:
        service.pop("daily_limit", None)
        service["numbers"] = {"first": 1, "last": 99999}
    return write_config(tmp_path, document)


async def burst(base_url: str, token: str, acknowledged: list[str], stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=5) as client:

        async def issuer() -> None:
            while not stop.is_set():
                try:
                    reply = await client.post("/api/v1/tickets", json={"service": "social"})
                except httpx.HTTPError:
                    return  # the daemon is gone
                if reply.status_code == 201:
                    acknowledged.append(reply.json()["code"])

        await asyncio.gather(*(issuer() for _ in range(16)))


async def kill_during_burst(daemon: DaemonProcess, token: str) -> list[str]:
    acknowledged: list[str] = []
    stop = asyncio.Event()
    load = asyncio.create_task(burst(daemon.base_url, token, acknowledged, stop))
    while len(acknowledged) < 200:
        await asyncio.sleep(0.01)
    await asyncio.to_thread(daemon.kill)
    stop.set()
    await load
    return acknowledged


def test_sigkill_during_a_burst_loses_no_acknowledged_ticket(tmp_path: Path) -> None:
    config = hall_config(tmp_path)
    _, token = TokenFile(tmp_path / "secrets.yaml").add(Role.ADMIN)
    daemon = DaemonProcess(config).start()
    try:
        acknowledged = asyncio.run(kill_during_burst(daemon, token))
    finally:
        daemon.kill()
    assert daemon.process is not None and daemon.process.returncode == -9
    assert len(acknowledged) == len(set(acknowledged)) >= 200

    restarted = DaemonProcess(config).start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=restarted.base_url, headers=headers) as client:
            missing = [
                code
                for code in acknowledged
                if client.get(f"/api/v1/tickets/{code}").status_code != 200
            ]
            assert missing == []
            after = client.post("/api/v1/tickets", json={"service": "social"}).json()
            assert after["code"] not in acknowledged
            assert after["number"] > max(int(code[1:]) for code in acknowledged)
            events = client.get("/api/v1/events", params={"limit": 1000}).json()["events"]
            seqs = [e["seq"] for e in events]
            assert seqs == list(range(1, len(seqs) + 1))
            issued = {e["ticket"] for e in events if e["type"] == "ticket.issued"}
            assert set(acknowledged) <= issued
    finally:
        assert restarted.stop() == 0
