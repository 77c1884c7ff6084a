"""`hallkeeper day`: play a compressed day of the hall and check the records.

The hall config is copied into the run's folder with its store, tokens, API
port and event feed moved there (and its speakers left out unless the day
file keeps them); the simulated hall and the daemon start as processes; the
crowd, the clerks and the fault schedule play on the compressed clock; then
the checks run and are printed, Chinese first with English. Exit code: 0 all
checks passed, 1 a check failed, 2 a bad config or day file, 3 the hall did
not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import yaml

from daemon.config.loader import ConfigError, load_config
from daemon.config.model import HallConfig
from daemon.day.checks import CheckResult, Records, all_checks
from daemon.day.clerks import Clerk, Floor
from daemon.day.clock import DayClock
from daemon.day.crowd import Crowd, plan_crowd
from daemon.day.faults import FaultPlayer, plan_faults
from daemon.day.hall_io import HallIO
from daemon.day.layout import (
    BROKER,
    Layout,
    citizen_services,
    day_problems,
    kiosks_of,
    layout_of,
)
from daemon.day.ledger import Ledger
from daemon.day.processes import HallProcesses
from daemon.day.records import Screens, read_records
from daemon.day.settings import DayFileError, DaySettings, load_day
from daemon.tokens import Role, TokenFile

EXIT_PASSED, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NO_HALL = 0, 1, 2, 3
STORE = "hall.sqlite3"


class _Quoted(yaml.SafeDumper):
    """Every string quoted, so '0108' stays a string under the config's YAML 1.2."""


_Quoted.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
)


def run_config(config: HallConfig, folder: Path, speakers: bool) -> Path:
    """The hall config for the run, in `folder`: store, tokens, API on a free
    port, no ZeroMQ feed; paths were made absolute when it was loaded."""
    devices = [d for d in config.devices if speakers or d.model != "speaker"]
    moved = config.model_copy(
        update={
            "storage": config.storage.model_copy(update={"path": folder / STORE}),
            "secrets": folder / "secrets.yaml",
            "api": config.api.model_copy(update={"host": "127.0.0.1", "port": 0}),
            "events": config.events.model_copy(update={"zmq_pub": None}),
            "devices": devices,
        }
    )
    document = moved.model_dump(mode="json", exclude_unset=True)
    path = folder / "hall.yaml"
    path.write_text(
        yaml.dump(document, Dumper=_Quoted, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path


class Day:
    """One simulated day on running processes."""

    def __init__(
        self,
        settings: DaySettings,
        config: HallConfig,
        layout: Layout,
        processes: HallProcesses,
        tokens: tuple[str, str],
    ) -> None:
        self.settings = settings
        self.config = config
        self.layout = layout
        self.processes = processes
        self.tokens = tokens
        self.ledger = Ledger()
        #: Each simulated bus's counters at the end (frames, collisions).
        self.buses: dict[str, dict[str, int]] = {}

    async def play(self) -> Records:
        admin, kiosk = self.tokens
        io = HallIO(self.processes.control, self.processes.base_url, admin, kiosk)
        try:
            await self._enrol(io)
            clock = DayClock(self.settings.opens, self.settings.speed)  # the hall opens now
            crowd = Crowd(
                io, clock, self.ledger, {k: self.layout.kiosks[k] for k in self._kiosks()}
            )
            floor = Floor()
            clerks = [
                Clerk(post, io, clock, crowd, self.ledger, self.settings, self.layout, floor)
                for post in self.layout.posts
            ]
            broker = await self._has_broker(io)
            player = FaultPlayer(
                clock,
                self.ledger,
                lambda target, kind: self._sim_fault(io, target, kind),
                self._kill,
                lambda: self._restart(io),
                broker=broker,
            )
            faults = plan_faults(self.settings, self.layout, broker=broker, daemon=True)
            citizens = plan_crowd(
                self.settings, citizen_services(self.settings, self.config), self._kiosks()
            )
            working = [asyncio.create_task(c.work()) for c in clerks]
            faulting = asyncio.create_task(player.play(faults))
            await asyncio.gather(*(crowd.live(plan) for plan in citizens))
            await clock.until(self.settings.day_minutes)
            floor.arrivals_over = True
            await faulting
            await asyncio.gather(*working)
            self.ledger.counts["citizens"] = len(citizens)
            return await self._records(io)
        finally:
            await io.close()

    async def _enrol(self, io: HallIO) -> None:
        """The clerks' fingers on the readers they use (`hallkeeper simulate` starts
        with empty readers)."""
        pairs = [(post.reader, post.clerk) for post in self.layout.posts if post.reader]
        pairs += [
            (door, post.clerk)
            for door in self.layout.doors
            if door not in self.layout.terminals
            for post in self.layout.posts
        ]
        enrolled = await asyncio.gather(*(io.enrol(reader, staff) for reader, staff in pairs))
        for (reader, staff), ok in zip(pairs, enrolled, strict=True):
            if not ok:
                self.ledger.counts[f"{staff} could not be enrolled on {reader}"] += 1

    def _kiosks(self) -> tuple[str, ...]:
        return kiosks_of(self.settings, self.layout)

    async def _has_broker(self, io: HallIO) -> bool:
        """Whether `hallkeeper simulate` runs the hall's MQTT broker (a fault can stop it)."""
        listed = await io.sim("list")
        return any(d.get("id") == BROKER for d in listed.get("devices", []))

    async def _sim_fault(self, io: HallIO, target: str, kind: str) -> str:
        answer = await io.fault(target, kind)
        return "" if answer.get("ok") else f"failed: {answer.get('error')}"

    async def _kill(self) -> str:
        await asyncio.to_thread(self.processes.kill_daemon)
        return ""

    async def _restart(self, io: HallIO) -> str:
        try:
            io.base_url = await asyncio.to_thread(self.processes.start_daemon)
        except RuntimeError as error:
            return f"restart failed: {error}"
        self.ledger.daemon_restarts += 1
        return ""

    # --- what the hall recorded ----------------------------------------------------

    async def _records(self, io: HallIO) -> Records:
        records = await read_records(io, self.config, self._screens())
        for link in self.layout.links:
            self.buses[link] = (await io.show(link)).get("counters", {})
        return records

    def _screens(self) -> Screens:
        return Screens(dict(self.layout.window_screens), self.layout.hall_screens)


def run_day(
    config_path: Path,
    day_path: Path | None,
    folder: Path | None,
    overrides: dict[str, Any],
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    """`hallkeeper day`; the exit code."""
    out = out or sys.stdout
    try:
        settings = load_day(day_path, overrides)
        config = load_config(config_path)
    except (DayFileError, ConfigError) as error:
        print(f"hallkeeper day: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    layout = layout_of(config, settings)
    problems = day_problems(settings, config, layout)
    if problems:
        where = str(day_path or "(day defaults)")
        for problem in problems:
            print(f"hallkeeper day: {problem.render(where)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="hallkeeper-day-"))
            )
        folder = folder.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / STORE).exists():
            print(
                f"hallkeeper day: {folder} has a hall store already; give an empty folder "
                f"/ 文件夹中已有数据，请换一个空文件夹",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        path = run_config(config, folder, settings.speakers)
        config = load_config(path)
        secrets = TokenFile(config.secrets)
        tokens = (secrets.add(Role.ADMIN, label="day")[1], secrets.add(Role.KIOSK, label="day")[1])
        processes = HallProcesses(path, folder)
        try:
            processes.start()
        except (RuntimeError, OSError) as error:
            processes.stop()
            print(
                f"hallkeeper day: the hall did not start / 大厅未能启动: {error}", file=sys.stderr
            )
            return EXIT_NO_HALL
        started = time.monotonic()
        day = Day(settings, config, layout, processes, tokens)
        try:
            records = asyncio.run(day.play())
        finally:
            processes.stop()
        seconds = time.monotonic() - started
        results = all_checks(day.ledger, records)
        report = summary(settings, config, day.ledger, results, seconds)
        report["buses"] = day.buses
        if as_json:
            print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
        else:
            print_report(report, out)
    return EXIT_PASSED if all(r.ok for r in results) else EXIT_FAILED


def summary(
    settings: DaySettings,
    config: HallConfig,
    ledger: Ledger,
    results: list[CheckResult],
    seconds: float,
) -> dict[str, Any]:
    return {
        "hall": config.hall.id,
        "opens": settings.opens.strftime("%H:%M"),
        "closes": settings.closes.strftime("%H:%M"),
        "speed": settings.speed,
        "seed": settings.seed,
        "real_seconds": round(seconds, 1),
        "citizens": ledger.counts["citizens"],
        "tickets_received": len(ledger.received),
        "no_ticket": dict(ledger.no_ticket),
        "counts": {k: v for k, v in ledger.counts.items() if k != "citizens"},
        "ratings": {
            "given": len(ledger.ratings),
            "delivered": sum(r.delivered for r in ledger.ratings),
        },
        "fingers": {"given": len(ledger.fingers), "taken": sum(f.taken for f in ledger.fingers)},
        "daemon_restarts": ledger.daemon_restarts,
        "faults": [vars(f) for f in ledger.faults],
        "checks": [
            {
                "id": r.id,
                "zh": r.zh,
                "en": r.en,
                "ok": r.ok,
                "detail": r.detail,
                "problems": list(r.problems),
            }
            for r in results
        ],
        "passed": all(r.ok for r in results),
    }


def print_report(report: dict[str, Any], out: TextIO) -> None:
    line = lambda text="": print(text, file=out)  # noqa: E731
    line(
        f"模拟一天 / a simulated day: {report['hall']} {report['opens']}–{report['closes']}, "
        f"{report['speed']:g}× (seed {report['seed']}), {report['real_seconds']:g} s"
    )
    no_ticket = ", ".join(f"{k} {v}" for k, v in report["no_ticket"].items()) or "none"
    line(
        f"市民 / citizens: {report['citizens']} came, {report['tickets_received']} received a "
        f"ticket; without one: {no_ticket}"
    )
    for name, count in sorted(report["counts"].items()):
        line(f"  {name}: {count}")
    line(
        f"评价 / ratings: {report['ratings']['given']} given, "
        f"{report['ratings']['delivered']} delivered; "
        f"打卡 / fingers: {report['fingers']['given']} given, {report['fingers']['taken']} taken"
    )
    line(f"故障 / faults ({len(report['faults'])}, daemon restarts {report['daemon_restarts']}):")
    for fault in sorted(report["faults"], key=lambda f: f["at"]):
        note = f"  [{fault['note']}]" if fault["note"] else ""
        line(f"  {fault['at']} {fault['kind']} {fault['target']} {fault['minutes']:g} min{note}")
    for bus, counters in report.get("buses", {}).items():
        line(f"总线 / bus {bus}: " + ", ".join(f"{k} {v}" for k, v in counters.items()))
    line("检查 / checks:")
    for check in report["checks"]:
        mark = "通过 PASS" if check["ok"] else "失败 FAIL"
        line(f"  [{mark}] {check['zh']} / {check['en']} ({check['detail']})")
        for problem in check["problems"]:
            line(f"      {problem}")
    if report["passed"]:
        line("结果 / result: 全部通过 / all checks passed")
    else:
        line("结果 / result: 有检查未通过 / a check failed")
