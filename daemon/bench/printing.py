"""`hallkeeper bench print`: from a kiosk's ticket request to the cut of its
ticket, on each kind of printer link, through the real daemon.

The daemon runs as its own process with `--simulate`: a simulated printer on
USB (a pyusb backend inside the daemon), on TCP 9100 and on a pty. Tickets
are issued one at a time through the API; the simulated printer stamps the
moment it cuts each ticket (wall clock, as the two processes share it). Once
for tickets in text only (Chinese and English), once with Tibetan lines
drawn as images. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from daemon.bench.core import percentile
from daemon.bench.daemon_process import DaemonProcess
from daemon.bench.http_load import Connection
from daemon.tokens import Role, TokenFile
from devices.printer_config import TIBETAN_FONT
from simulators.control import request
from simulators.ports import free_port

LINKS = {
    "usb": {"usb": {"vendor": 0x0416, "product": 0x5011}},
    "tcp": {"tcp": {"host": "192.0.2.1", "port": 9100}},
    "serial": {"serial": {"device": "/dev/null", "baud": 115200}},
}
WARMUP = 3
STARTUP = 10.0  # seconds for a printer to answer its first status request


def bench_hall(folder: Path, images: bool) -> Path:
    names = {"zh": "测试大厅", "en": "Bench Hall", "bo": "ཚོད་ལྟའི་ཚོམས་ཆེན།"}
    service = {"zh": "社会保障", "en": "Social Security", "bo": "སྤྱི་ཚོགས་འགན་སྲུང་།"}
    languages = ["zh", "bo", "en"] if images else ["zh", "en"]
    document = {
        "hall": {
            "id": "bench-print",
            "names": {lang: names[lang] for lang in languages},
            "languages": languages,
        },
        "services": [
            {
                "id": "social",
                "names": {lang: service[lang] for lang in languages},
                "prefix": "A",
                "numbers": {"first": 1, "last": 9999},
            }
        ],
        "windows": [{"number": 1, "services": ["social"]}],
        "devices": [
            {
                "id": f"printer-{link}",
                "model": "escpos-printer",
                "kiosk": f"kiosk-{link}",
                "profile": "80mm",
                **connection,
            }
            for link, connection in LINKS.items()
        ],
        "ticket": {
            "qr_url": "https://hall.example/q?t={ticket}&d={day}",
            "waiting": {"zh": "您前面还有 {ahead} 人等候", "en": "{ahead} ahead", "bo": "{ahead}"},
            "footer": {"zh": "过号无效，请重新取号", "en": "Missed your call?", "bo": "ཐུགས་རྗེ་ཆེ།"},
        },
        "api": {"host": "127.0.0.1", "port": 0},
        "events": {"zmq_pub": None},
        "storage": {"path": "hall.sqlite3"},
        "secrets": "secrets.yaml",
    }
    path = folder / "hall.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


async def wait_until_online(connection: Connection, token: str, printer: str) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        _, body = await connection.request("GET", "/api/v1/health", token)
        states = {d["id"]: d["state"] for d in json.loads(body)["devices"]}
        if states.get(printer) == "online":
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{printer} did not come online")


async def print_tickets(
    base_url: str, token: str, control: str, link: str, tickets: int
) -> dict[str, Any]:
    connection = await Connection.open(base_url)
    latencies: list[float] = []
    failed = 0
    try:
        await wait_until_online(connection, token, f"printer-{link}")
        for n in range(WARMUP + tickets):
            started = time.time()
            body = {"service": "social", "kiosk": f"kiosk-{link}"}
            status, answer = await connection.request("POST", "/api/v1/tickets", token, body)
            shown = await asyncio.to_thread(request, control, "show", device=f"printer-{link}")
            last = (shown["state"].get("ticket") or {}) if shown.get("ok") else {}
            code = json.loads(answer).get("code") if status == 201 else None
            if code is None or code not in last.get("lines", []) or not last.get("cut_at"):
                failed += 1
            elif n >= WARMUP:
                latencies.append((last["cut_at"] - started) * 1000)
    finally:
        await connection.close()
    spread = (
        {
            "p50": round(percentile(latencies, 0.5), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
        }
        if latencies
        else None
    )
    return {"issue_to_cut_ms": spread, "tickets": len(latencies), "failed": failed}


def run_kind(images: bool, tickets: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hallkeeper-bench-print-") as scratch:
        folder = Path(scratch)
        config = bench_hall(folder, images)
        _, token = TokenFile(folder / "secrets.yaml").add(Role.ADMIN)
        control = f"tcp://127.0.0.1:{free_port()}"
        daemon = DaemonProcess(
            config, args=["--simulate"], env={"HALLKEEPER_SIM_CONTROL": control}
        ).start()
        try:
            return {
                link: asyncio.run(print_tickets(daemon.base_url, token, control, link, tickets))
                for link in LINKS
            }
        finally:
            daemon.stop()


def run_print_bench(tickets: int) -> dict[str, Any]:
    result: dict[str, Any] = {"bench": "print", "tickets_per_link": tickets}
    result["text"] = run_kind(images=False, tickets=tickets)
    if TIBETAN_FONT.is_file():
        result["image"] = run_kind(images=True, tickets=tickets)
    else:
        result["image"] = None
        result["note"] = f"no Tibetan font at {TIBETAN_FONT}: `make` installs it"
    print(json.dumps(result, ensure_ascii=False))
    return result
