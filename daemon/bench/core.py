"""`hallkeeper bench core`: the hall core's speed through its real API.

Starts a daemon process on a scratch hall, issues tickets from many
concurrent connections (each answer comes only once the ticket is durable),
then times call-next one request at a time, and measures the disk's fsync
on the store's own filesystem, all in one run. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from daemon.bench.daemon_process import DaemonProcess
from daemon.bench.http_load import Connection
from daemon.tokens import Role, TokenFile

WINDOWS = 20


def scratch_hall(folder: Path) -> Path:
    services = [
        {
            "id": f"service-{letter.lower()}",
            "names": {"zh": f"业务{letter}", "en": f"Service {letter}"},
            "prefix": letter,
            "numbers": {"first": 1, "last": 99999},
        }
        for letter in "ABCD"
    ]
    document = {
        "hall": {"id": "bench-hall", "names": {"zh": "测试大厅", "en": "Bench Hall"}},
        "services": services,
        "windows": [
            {"number": n, "services": [services[n % 4]["id"], services[(n + 1) % 4]["id"]]}
            for n in range(1, WINDOWS + 1)
        ],
        "api": {"host": "127.0.0.1", "port": 0},
        "events": {"zmq_pub": "tcp://127.0.0.1:*"},
        "storage": {"path": "hall.sqlite3"},
        "secrets": "secrets.yaml",
    }
    path = folder / "hall.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def fsync_ms(folder: Path, rounds: int = 200) -> list[float]:
    """Append 4 KiB and fsync, as a commit does, on the store's filesystem."""
    times = []
    fd = os.open(folder / "fsync-probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(rounds):
            os.write(fd, b"\0" * 4096)
            began = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - began) * 1000)
    finally:
        os.close(fd)
    return times


async def issue_tickets(base_url: str, token: str, count: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    remaining = iter(range(count))

    async def worker() -> None:
        connection = await Connection.open(base_url)
        try:
            for n in remaining:
                body = {"service": "service-" + "abcd"[n % 4]}
                began = time.perf_counter()
                status, reply = await connection.request("POST", "/api/v1/tickets", token, body)
                latencies.append((time.perf_counter() - began) * 1000)
                if status != 201:
                    failures.append(f"{status} {reply[:200].decode(errors='replace')}")
        finally:
            await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return {
        "tickets": count,
        "failed": len(failures),
        "failures": failures[:5],
        "concurrency": concurrency,
        "tickets_per_second": round(count / elapsed, 1),
        "issue_ms": _spread(latencies),
    }


async def time_call_next(base_url: str, token: str, calls: int) -> dict[str, Any]:
    connection = await Connection.open(base_url)
    try:
        for n in range(1, WINDOWS + 1):
            await connection.request("POST", f"/api/v1/windows/{n}/open", token)
        latencies = []
        for i in range(calls):
            path = f"/api/v1/windows/{i % WINDOWS + 1}/call-next"
            began = time.perf_counter()
            status, reply = await connection.request("POST", path, token)
            latencies.append((time.perf_counter() - began) * 1000)
            if status != 200:
                raise RuntimeError(f"call-next answered {status}: {reply[:200]!r}")
    finally:
        await connection.close()
    return {"calls": calls, "call_next_ms": _spread(latencies)}


def _spread(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(latencies, 0.5), 3),
        "p99": round(percentile(latencies, 0.99), 3),
    }


async def measure(base_url: str, token: str, tickets: int, concurrency: int, calls: int) -> dict:
    issued = await issue_tickets(base_url, token, tickets, concurrency)
    called = await time_call_next(base_url, token, min(calls, tickets))
    return {**issued, **called}


def run_core_bench(tickets: int, concurrency: int, calls: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hallkeeper-bench-") as scratch:
        folder = Path(scratch)
        config = scratch_hall(folder)
        _, token = TokenFile(folder / "secrets.yaml").add(Role.ADMIN)
        daemon = DaemonProcess(config).start()
        try:
            figures = asyncio.run(measure(daemon.base_url, token, tickets, concurrency, calls))
        finally:
            daemon.stop()
        fsyncs = fsync_ms(folder)
    result = {
        "bench": "core",
        **figures,
        "durable": "each ticket answered after its SQLite commit (WAL, synchronous=FULL)",
        "fsync_ms": {"p50": round(statistics.median(fsyncs), 3)},
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))
    return result
