"""`hallkeeper bench stop`: how long a SIGTERM stop takes under load, the
figure behind the unit's TimeoutStopSec.

The demo hall (config/demo.yaml: two RS-485 buses with 24 window devices and
one with the hall screen, a USB and a TCP ticket printer, three fingerprint
readers, an attendance terminal, the embedded MQTT broker) runs with
`--simulate` as its own process. Clients issue kiosk tickets on both kiosks,
so both printers are printing, and call tickets at the windows; after
`load_seconds` the daemon gets SIGTERM, and the time until it has exited is
taken. That is repeated `runs` times on one store; then the daemon starts
once more and every ticket that was answered 201 is looked up. Prints one
JSON object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from daemon.bench.core import percentile
from daemon.bench.daemon_process import DaemonProcess
from daemon.bench.http_load import Connection
from daemon.tokens import Role, TokenFile
from simulators.ports import free_port

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
KIOSKS = ("kiosk-1", "kiosk-2")
SERVICES = ("social-security", "medical-insurance", "housing-fund", "business-registration")


def demo_hall(folder: Path) -> Path:
    """The demo config with its store, tokens, API port and event feed moved.
    Edited as text: a YAML round trip would turn staff numbers like 0108 into ints."""
    if not DEMO.is_file():
        raise SystemExit(f"hallkeeper bench stop needs the source tree's {DEMO}")
    text = DEMO.read_text(encoding="utf-8")
    for line, moved in (
        ("path: ../var/demo/hall.sqlite3", f"path: {folder / 'hall.sqlite3'}"),
        ("secrets: ../var/demo/secrets.yaml", f"secrets: {folder / 'secrets.yaml'}"),
        ("port: 8080", "port: 0"),
        ("zmq_pub: tcp://127.0.0.1:5557", "zmq_pub: null"),
    ):
        if line not in text:
            raise SystemExit(f"{DEMO} has no line {line!r} any more: update {__file__}")
        text = text.replace(line, moved)
    path = folder / "hall.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def load(base_url: str, token: str, clients: int, answered: list[str]) -> None:
    """Kiosk tickets and calls, until cancelled (or the daemon goes away)."""

    async def client(n: int) -> None:
        connection = await Connection.open(base_url)
        try:
            while True:
                body = {"service": random.choice(SERVICES), "kiosk": KIOSKS[n % 2]}
                status, reply = await connection.request("POST", "/api/v1/tickets", token, body)
                if status == 201:
                    answered.append(json.loads(reply)["code"])
                window = random.randint(1, 8)
                await connection.request("POST", f"/api/v1/windows/{window}/call-next", token)
        except (OSError, asyncio.IncompleteReadError):
            return  # the daemon stopped
        finally:
            await connection.close()

    await asyncio.gather(*(client(n) for n in range(clients)))


async def one_stop(daemon: DaemonProcess, token: str, clients: int, seconds: float) -> dict:
    answered: list[str] = []
    clients_task = asyncio.create_task(load(daemon.base_url, token, clients, answered))
    await asyncio.sleep(seconds)
    assert daemon.process is not None
    started = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(daemon.process.wait, 120)
    took = time.monotonic() - started
    clients_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await clients_task
    return {"seconds": took, "exit_code": code, "answered": answered}


def spooled(store: Path) -> int:
    """Kiosk tickets stored as still to print (printed after a restart if fresh)."""
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM tickets WHERE print_state = 'queued'"
        ).fetchone()
    return int(count)


def run_stop_bench(runs: int, load_seconds: float, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hallkeeper-bench-stop-") as scratch:
        folder = Path(scratch)
        config = demo_hall(folder)
        _, token = TokenFile(folder / "secrets.yaml").add(Role.ADMIN)
        env = {"HALLKEEPER_SIM_CONTROL": f"tcp://127.0.0.1:{free_port()}"}
        stops, answered, queued = [], [], []
        for _ in range(runs):
            daemon = DaemonProcess(config, args=["--simulate"], env=env).start()
            stop = asyncio.run(one_stop(daemon, token, clients, load_seconds))
            stops.append(stop)
            answered += stop["answered"]
            queued.append(spooled(folder / "hall.sqlite3"))
        daemon = DaemonProcess(config, args=["--simulate"], env=env).start()
        try:
            missing = asyncio.run(missing_tickets(daemon.base_url, token, answered))
        finally:
            daemon.stop()
    seconds = [s["seconds"] for s in stops]
    result = {
        "bench": "stop",
        "hall": "config/demo.yaml with --simulate",
        "runs": runs,
        "load_seconds": load_seconds,
        "clients": clients,
        "stop_seconds": {
            "p50": round(percentile(seconds, 0.5), 2),
            "max": round(max(seconds), 2),
            "each": [round(s, 2) for s in seconds],
        },
        "exit_codes": sorted({s["exit_code"] for s in stops}),
        "tickets_answered": len(answered),
        "answered_but_missing_after_restart": missing,
        "kiosk_tickets_still_spooled_at_each_stop": queued,
    }
    print(json.dumps(result, ensure_ascii=False))
    return result


async def missing_tickets(base_url: str, token: str, codes: list[str]) -> int:
    connection = await Connection.open(base_url)
    try:
        missing = 0
        for code in set(codes):
            status, _ = await connection.request("GET", f"/api/v1/tickets/{code}", token)
            missing += status != 200
        return missing
    finally:
        await connection.close()
