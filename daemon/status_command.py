"""`hallkeeper status`: a running daemon's devices and queues as tables, from
its local status socket (see status_socket.py for why no token is needed).

Exit codes, for monitoring scripts: 0 every device online, 1 a device is not
online (the table says which and why), 2 no answer from the daemon.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from rich.text import Text

from daemon.config.model import HallConfig
from daemon.status_socket import StatusUnavailable, read_status, status_socket_path
from daemon.tables import console, table

ALL_ONLINE, NOT_ALL_ONLINE, NO_ANSWER = 0, 1, 2

STATES = {
    "online": ("在线 online", "green"),
    "degraded": ("降级 degraded", "yellow"),
    "fault": ("故障 fault", "red"),
    "offline": ("离线 offline", "red"),
    "disabled": ("停用 disabled", "dim"),
}
KINDS = {
    "window-display": "窗口屏",
    "hall-display": "大厅主屏",
    "caller-keypad": "呼叫器",
    "evaluation-pad": "评价器",
    "ticket-printer": "取号打印机",
    "fingerprint-reader": "指纹仪",
    "attendance-terminal": "考勤机",
    "adms-terminal": "考勤机 (ADMS)",
    "speaker": "扬声器",
}
WINDOWS = {"open": "开放 open", "paused": "暂停 paused", "closed": "关闭 closed"}


def status_command(config: HallConfig, as_json: bool) -> int:
    try:
        document = read_status(status_socket_path(config.storage.path))
    except StatusUnavailable as exc:
        print(f"hallkeeper: {exc}", file=sys.stderr)
        return NO_ANSWER
    devices = document["health"]["devices"]
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        show(document)
    return ALL_ONLINE if all(d["state"] == "online" for d in devices) else NOT_ALL_ONLINE


def show(document: dict[str, Any]) -> None:
    health, queue = document["health"], document["queue"]
    out = console()
    out.print(_summary(health))
    devices = health["devices"]
    out.print(
        table(
            "设备 Devices",
            [
                "设备 Device",
                "类型 Kind",
                "状态 State",
                "原因 Reason",
                "自 Since",
                "最后通信 Last seen",
            ],
            [_device_row(d) for d in devices],
        )
    )
    out.print(
        table(
            "排队 Queues",
            ["业务 Service", "等候 Waiting", "其中优先 Priority", "今日取号 Issued today"],
            [
                [
                    _names(s["names"]),
                    str(s["waiting"]),
                    str(s["waiting_priority"]),
                    str(s["issued"]),
                ]
                for s in queue["services"]
            ],
        )
    )
    out.print(
        table(
            "窗口 Windows",
            ["窗口 Window", "状态 Status", "当前号 Current", "工作人员 Clerk"],
            [
                [
                    _names(w["names"]),
                    WINDOWS.get(w["status"], w["status"]),
                    w["current"] or "-",
                    w["clerk_name"] or w["clerk"] or "-",
                ]
                for w in queue["windows"]
            ],
        )
    )
    down = [d for d in devices if d["state"] != "online"]
    if down:
        out.print(
            Text(
                f"{len(down)} 台设备不在线 {len(down)} device(s) not online: "
                + ", ".join(d["id"] for d in down),
                style="bold red",
            )
        )
    else:
        out.print(Text(f"全部 {len(devices)} 台设备在线 all devices online", style="green"))


def _summary(health: dict[str, Any]) -> str:
    store = (
        "正常 ok"
        if health["store"]["state"] == "ok"
        else f"故障 failed: {health['store']['error']}"
    )
    uptime = dt.timedelta(seconds=int(health["uptime_seconds"]))
    return (
        f"大厅 hall {health['hall']}  状态 {health['state']}  版本 version {health['version']}  "
        f"已运行 uptime {uptime}  事件循环延迟 loop lag {health['loop_lag_ms']:.1f} ms  "
        f"存储 store {store}"
    )


def _device_row(device: dict[str, Any]) -> list[str | Text]:
    label, style = STATES.get(device["state"], (device["state"], ""))
    kind = device["kind"]
    return [
        device["id"],
        f"{KINDS[kind]} {kind}" if kind in KINDS else kind,
        Text(label, style=style),
        device["reason"] or "",
        _when(device["since"]),
        _when(device["last_seen"]),
    ]


def _when(value: str | None) -> str:
    """A time of today as 14:03:22, of another day with its date."""
    if value is None:
        return "-"
    at = dt.datetime.fromisoformat(value)
    today = dt.datetime.now(at.tzinfo).date()
    return at.strftime("%H:%M:%S" if at.date() == today else "%Y-%m-%d %H:%M")


def _names(names: dict[str, str]) -> str:
    return " ".join(dict.fromkeys(names.values()))
