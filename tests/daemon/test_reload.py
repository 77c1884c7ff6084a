"""SIGHUP to a running daemon: devices added to the config file appear in
/api/v1/health and work, removed ones disappear, a config with problems is
refused with its problems logged while the hall runs on unchanged, and no
ticket is lost across the reloads. The devices are simulators the test runs
itself, reached at the addresses the config names, as a hall's would be."""

from __future__ import annotations

import copy
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.bench.daemon_process import DaemonProcess
from daemon.tokens import Role, TokenFile
from drivers.bus import Endpoint
from simulators.hall import DeviceSpec, LinkSpec, PrinterSpec, SimulatedHall
from simulators.rs485.devices import KeypadSim, ScreenSim
from tests.conftest import small_hall, window_one_and_kiosk_one, write_config
from tests.waiting import wait_for

pytestmark = pytest.mark.process
DUPLICATE_WINDOW = Endpoint.__dataclass_fields__["duplicate_window"].default


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[SimulatedHall]:
    bus = LinkSpec(
        "bus-1",
        9600,
        (DeviceSpec("screen-1", "imm-window-screen", 1), DeviceSpec("keypad-1", "ff68-keypad", 1)),
    )
    hall = SimulatedHall(
        [bus], tmp_path / "sim", None, printers=[PrinterSpec("kiosk-1-printer", "tcp")]
    )
    hall.start()
    yield hall
    hall.stop()


def hall_devices(simulators: SimulatedHall) -> dict[str, Any]:
    """The config sections for the simulated screen, keypad and printer."""
    host, port = simulators.printer_urls["kiosk-1-printer"].removeprefix("tcp://").split(":")
    return window_one_and_kiosk_one(
        simulators.link_urls["bus-1"], {"host": host, "port": int(port)}
    )


class Issuer:
    """Issues tickets one after another in a thread; keeps the acknowledged codes."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.acknowledged: list[str] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            reply = self.client.post("/api/v1/tickets", json={"service": "social"})
            if reply.status_code == 201:
                self.acknowledged.append(reply.json()["code"])
            else:
                self.failures.append(reply.text)
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Hall:
    def __init__(self, daemon: DaemonProcess, client: httpx.Client, path: Path) -> None:
        self.daemon = daemon
        self.client = client
        self.path = path

    def reload(self, document: dict[str, Any], expect: str) -> None:
        """Write the config, send SIGHUP, and wait for the log line `expect`."""
        self.path.write_text(_yaml(document), "utf-8")
        seen = self._count(expect)
        assert self.daemon.process is not None
        self.daemon.process.send_signal(signal.SIGHUP)
        wait_for(lambda: self._count(expect) > seen, what=f"{expect!r} in the log")

    def _count(self, text: str) -> int:
        return sum(text in line for line in self.daemon.output)

    def devices(self) -> dict[str, str]:
        health = self.client.get("/api/v1/health").json()
        return {device["id"]: device["state"] for device in health["devices"]}

    def kiosk_ticket(self) -> httpx.Response:
        return self.client.post("/api/v1/tickets", json={"service": "tax", "kiosk": "kiosk-1"})


def _yaml(document: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def test_sighup_adds_and_removes_devices_and_refuses_a_bad_config(
    tmp_path: Path, simulators: SimulatedHall
) -> None:
    document = small_hall(tmp_path)
    path = write_config(tmp_path, document)
    _, token = TokenFile(tmp_path / "secrets.yaml").add(Role.ADMIN)
    daemon = DaemonProcess(path).start()
    headers = {"Authorization": f"Bearer {token}"}
    client = httpx.Client(base_url=daemon.base_url, headers=headers, timeout=10)
    hall = Hall(daemon, client, path)
    issuer = Issuer(httpx.Client(base_url=daemon.base_url, headers=headers, timeout=10))
    try:
        assert client.post("/api/v1/windows/1/sign-in", json={"staff": "s1"}).status_code == 200
        assert hall.devices() == {}
        assert hall.kiosk_ticket().status_code == 422  # no kiosk-1 yet

        # added: the screen and keypad on a new bus, and a printer
        with_devices = {**document, **hall_devices(simulators)}
        hall.reload(with_devices, "reload: devices added")
        assert set(hall.devices()) == {"screen-1", "keypad-1", "kiosk-1-printer"}
        wait_for(lambda: set(hall.devices().values()) == {"online"}, what="devices online")
        keypad = simulators.device("keypad-1")
        screen = simulators.device("screen-1")
        assert isinstance(keypad, KeypadSim) and isinstance(screen, ScreenSim)
        assert keypad.press("call")
        called = wait_for(lambda: client.get("/api/v1/windows/1").json()["current"], what="call")
        wait_for(lambda: called in (screen.text or ""), what=f"{called} on the window screen")
        ticket = hall.kiosk_ticket()
        assert ticket.status_code == 201 and ticket.json()["print_state"] == "printed"
        printed = simulators.printer("kiosk-1-printer").last_ticket()
        assert printed is not None and ticket.json()["code"] in printed.lines

        # a config with a problem is refused; the hall and its devices run on
        broken = copy.deepcopy(with_devices)
        broken["devices"][1]["window"] = 99
        hall.reload(broken, "reload refused")
        assert "devices[1].window" in "".join(daemon.output)
        assert set(hall.devices()) == {"screen-1", "keypad-1", "kiosk-1-printer"}
        time.sleep(DUPLICATE_WINDOW)  # a second press sooner is taken for a resend of the first
        assert keypad.press("call")
        wait_for(
            lambda: client.get("/api/v1/windows/1").json()["current"] not in (None, called),
            what="the keypad calling the next ticket",
        )
        assert hall.kiosk_ticket().json()["print_state"] == "printed"

        # removed: the keypad and the printer; the screen stays
        only_screen = copy.deepcopy(with_devices)
        only_screen["devices"] = [with_devices["devices"][0]]
        hall.reload(only_screen, "reload: devices added")
        assert set(hall.devices()) == {"screen-1"}
        wait_for(lambda: hall.devices() == {"screen-1": "online"}, what="the screen back online")
        assert hall.kiosk_ticket().status_code == 422
    finally:
        issuer.stop()
        code = daemon.stop()

    assert code == 0
    assert issuer.failures == []
    assert len(issuer.acknowledged) > 10

    restarted = DaemonProcess(path).start()
    try:
        with httpx.Client(base_url=restarted.base_url, headers=headers) as after:
            missing = [
                code
                for code in issuer.acknowledged
                if after.get(f"/api/v1/tickets/{code}").status_code != 200
            ]
    finally:
        restarted.stop()
    assert missing == []


def test_sighup_adds_a_speaker_that_says_the_next_call(tmp_path: Path) -> None:
    document = small_hall(tmp_path)
    path = write_config(tmp_path, document)
    _, token = TokenFile(tmp_path / "secrets.yaml").add(Role.ADMIN)
    daemon = DaemonProcess(path).start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=daemon.base_url, headers=headers, timeout=10) as client:
            hall = Hall(daemon, client, path)
            folder = str(tmp_path / "said")
            speaker = {"id": "speaker-1", "model": "speaker",
                       "file": {"folder": folder, "realtime": False}}  # fmt: skip
            hall.reload({**document, "devices": [speaker]}, "reload: devices added speaker-1")
            assert "speaker-1" in hall.devices()

            client.post("/api/v1/windows/1/sign-in", json={"staff": "s1"})
            client.post("/api/v1/tickets", json={"service": "social"})
            client.post("/api/v1/windows/1/call-next")

            said = wait_for(lambda: list((tmp_path / "said").glob("*-call-A001-w1.wav")),
                            what="the call said by the new speaker")  # fmt: skip
            assert len(said) == 1
    finally:
        assert daemon.stop() == 0
