"""`hallkeeper doctor` on PCs built in a folder: /etc/passwd and /etc/group,
/dev nodes with their owners and modes, sysfs USB devices with their drivers,
/proc processes, udev rules. A healthy PC passes; each thing that keeps a
hall's devices away is named with its fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from daemon.doctor import doctor_command
from daemon.doctor.checks import Finding, Level, all_findings
from daemon.doctor.machine import Machine
from daemon.voice.script import pack_tokens
from devices.speaker_config import Voice
from tests.audio import tone_pack
from tests.conftest import small_hall
from tests.mqtt_brokers import StartMosquitto, free_port

DIALOUT, LP, HALLKEEPER = 20, 7, 990


class FakePC:
    """A machine under `root`, as doctor reads one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
        self.write("/etc/group", "root:x:0:\n")
        self.write("/sys/module/usbcore/parameters/autosuspend", "2\n")

    def write(self, path: str, text: str) -> Path:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def link(self, path: str, target: str) -> None:
        source = self.root / path.lstrip("/")
        source.parent.mkdir(parents=True, exist_ok=True)
        source.symlink_to(target)

    def user(self, name: str, uid: int, groups: dict[str, int]) -> None:
        with (self.root / "etc/passwd").open("a") as passwd:
            passwd.write(f"{name}:x:{uid}:{uid}::/:/usr/sbin/nologin\n")
        with (self.root / "etc/group").open("a") as group:
            group.write(f"{name}:x:{uid}:\n")
            for other, gid in groups.items():
                group.write(f"{other}:x:{gid}:{name}\n")

    def node(self, path: str, gid: int, mode: int) -> None:
        """A /dev node (a plain file stands in for it) with its group and mode."""
        target = self.write(path, "")
        os.chown(target, 0, gid)
        os.chmod(target, mode)

    def usb(
        self,
        port: str,
        ids: tuple[int, int],
        driver: str,
        interface_class: str = "ff",
        tty: str | None = None,
        power: str = "on",
        devnum: int = 5,
    ) -> None:
        device = f"/sys/devices/pci0000:00/usb1/{port}"
        self.write(f"{device}/idVendor", f"{ids[0]:04x}\n")
        self.write(f"{device}/idProduct", f"{ids[1]:04x}\n")
        self.write(f"{device}/busnum", "1\n")
        self.write(f"{device}/devnum", f"{devnum}\n")
        self.write(f"{device}/power/control", f"{power}\n")
        interface = f"{device}/{port}:1.0"
        self.write(f"{interface}/bInterfaceNumber", "00\n")
        self.write(f"{interface}/bInterfaceClass", f"{interface_class}\n")
        (self.root / f"sys/bus/usb/drivers/{driver}").mkdir(parents=True, exist_ok=True)
        self.link(f"{interface}/driver", str(self.root / f"sys/bus/usb/drivers/{driver}"))
        self.link(f"/sys/bus/usb/devices/{port}", str(self.root / device.lstrip("/")))
        if tty is not None:
            (self.root / f"{interface.lstrip('/')}/{tty}/tty/{tty}").mkdir(parents=True)
            self.link(
                f"/sys/class/tty/{tty}", str(self.root / f"{interface.lstrip('/')}/{tty}/tty/{tty}")
            )

    def process(self, pid: int, command: str) -> None:
        self.write(f"/proc/{pid}/comm", f"{command}\n")


def hall_config(tmp_path: Path, **sections: Any) -> Path:
    document = small_hall(tmp_path) | {
        "links": [{"id": "bus-1", "url": "/dev/hallkeeper/bus-1"}],
        "devices": [
            {"id": "keypad-1", "model": "ff68-keypad", "link": "bus-1", "address": 1, "window": 1},
            {"id": "kiosk-1-printer", "model": "escpos-printer", "kiosk": "kiosk-1",
             "usb": {"vendor": 0x0416, "product": 0x5011}},
        ],
    } | sections  # fmt: skip
    path = tmp_path / "hall.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def healthy(tmp_path: Path) -> FakePC:
    """A gateway PC as install.sh leaves it, with the hall's adapter and printer."""
    pc = FakePC(tmp_path / "pc")
    pc.user("hallkeeper", HALLKEEPER, {"dialout": DIALOUT, "lp": LP})
    pc.usb("1-1.2", (0x1A86, 0x7523), "ch341", tty="ttyUSB0")
    pc.node("/dev/ttyUSB0", DIALOUT, 0o660)
    pc.link("/dev/hallkeeper/bus-1", "../ttyUSB0")
    pc.usb("1-1.3", (0x0416, 0x5011), "usbfs", interface_class="07", devnum=6)
    pc.node("/dev/bus/usb/001/006", LP, 0o660)
    pc.write("/etc/udev/rules.d/61-hallkeeper.rules", "# installed\n")
    pc.process(812, "ModemManager")
    return pc


def findings(pc: FakePC, config: Path, user: str = "hallkeeper") -> list[Finding]:
    return list(all_findings(Machine(pc.root), config, user))


def levels(found: list[Finding], check: str) -> list[Level]:
    return [f.level for f in found if f.check.startswith(check)]


def fix(found: list[Finding], check: str, level: Level = Level.PROBLEM) -> str:
    return " ".join(f.fix for f in found if f.check.startswith(check) and f.level is level)


def test_a_healthy_pc_passes(
    tmp_path: Path, healthy: FakePC, capsys: pytest.CaptureFixture[str]
) -> None:
    config = hall_config(tmp_path)
    found = findings(healthy, config)
    assert [
        f
        for f in found
        if f.level in (Level.PROBLEM, Level.WARNING) and f.check != "守护进程 daemon"
    ] == []
    adapters = [f.detail for f in found if f.check.startswith("USB 串口")]
    assert adapters == [
        "/dev/ttyUSB0: 1a86:7523 (ch341) on USB port 1-1.2 → /dev/hallkeeper/usb-serial-1-1.2"
    ]
    assert doctor_command(config, "hallkeeper", healthy.root) == 0
    out = capsys.readouterr().out
    assert "没有发现问题 no problems found" in out
    assert "root:dialout 0660" in out


def test_a_port_the_user_cannot_open_names_the_group(tmp_path: Path, healthy: FakePC) -> None:
    os.chown(healthy.root / "dev/ttyUSB0", 0, 0)
    os.chmod(healthy.root / "dev/ttyUSB0", 0o600)
    found = findings(healthy, hall_config(tmp_path))
    assert levels(found, "串口 serial bus-1") == [Level.PROBLEM]
    assert "usermod -aG dialout hallkeeper" in fix(found, "串口 serial bus-1")


def test_a_missing_port_says_how_to_name_one(tmp_path: Path, healthy: FakePC) -> None:
    (healthy.root / "dev/hallkeeper/bus-1").unlink()
    found = findings(healthy, hall_config(tmp_path))
    assert levels(found, "串口 serial bus-1") == [Level.PROBLEM]
    assert "62-hallkeeper-names.rules" in fix(found, "串口 serial bus-1")


def test_brltty_and_modem_manager_without_the_rules_are_problems(
    tmp_path: Path, healthy: FakePC
) -> None:
    healthy.write("/usr/lib/udev/rules.d/85-brltty.rules", "# brltty\n")
    (healthy.root / "etc/udev/rules.d/61-hallkeeper.rules").unlink()
    found = findings(healthy, hall_config(tmp_path))
    assert "apt purge brltty" in fix(found, "brltty")
    assert "systemctl disable --now ModemManager" in fix(found, "ModemManager")
    assert levels(found, "udev") == [Level.WARNING]


def test_usblp_cups_and_autosuspend_are_named(tmp_path: Path, healthy: FakePC) -> None:
    pc = FakePC(tmp_path / "other-pc")
    pc.user("hallkeeper", HALLKEEPER, {"dialout": DIALOUT, "lp": LP})
    pc.usb("1-1.2", (0x1A86, 0x7523), "ch341", tty="ttyUSB0", power="auto")
    pc.node("/dev/ttyUSB0", DIALOUT, 0o660)
    pc.link("/dev/hallkeeper/bus-1", "../ttyUSB0")
    pc.usb("1-1.3", (0x0416, 0x5011), "usblp", interface_class="07", devnum=6, power="auto")
    pc.node("/dev/bus/usb/001/006", 0, 0o664)
    pc.process(300, "cupsd")
    pc.write(
        "/etc/cups/printers.conf",
        "<Printer Kiosk>\nDeviceURI usb://Unknown/Printer?serial=1\n</Printer>\n",
    )
    found = findings(pc, hall_config(tmp_path))
    printer = "USB 打印机 printer kiosk-1-printer"
    assert levels(found, printer) == [Level.PROBLEM, Level.WARNING, Level.WARNING]
    assert "usermod -aG lp hallkeeper" in fix(found, printer)
    assert "blacklist usblp" in fix(found, printer, Level.WARNING)
    assert "usbcore.autosuspend=-1" in fix(found, printer, Level.WARNING)
    assert "usbcore.autosuspend=-1" in fix(found, "USB 串口", Level.NOTE)
    assert "lpadmin -x Kiosk" in fix(found, "CUPS", Level.WARNING)


def test_an_absent_printer_and_user(tmp_path: Path) -> None:
    pc = FakePC(tmp_path / "bare-pc")
    found = findings(pc, hall_config(tmp_path))
    assert levels(found, "用户 user") == [Level.PROBLEM]
    assert "not connected" in " ".join(f.detail for f in found if f.check.startswith("USB 打印机"))


def test_a_config_with_problems_is_listed_and_the_machine_still_checked(
    tmp_path: Path, healthy: FakePC
) -> None:
    config = hall_config(tmp_path, api={"port": "eighty"})
    found = findings(healthy, config)
    problems = [f.detail for f in found if f.level is Level.PROBLEM]
    assert len(problems) == 1 and "api.port" in problems[0] and str(config) in problems[0]
    assert levels(found, "ModemManager") == [Level.OK]


def test_the_broker_is_reached_or_the_reason_given(
    tmp_path: Path, healthy: FakePC, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto()
    reachable = hall_config(tmp_path, mqtt={"broker": f"mqtt://127.0.0.1:{broker.port}"})
    assert levels(findings(healthy, reachable), "MQTT") == [Level.OK]
    gone = hall_config(tmp_path, mqtt={"broker": f"mqtt://127.0.0.1:{free_port()}"})
    found = findings(healthy, gone)
    assert levels(found, "MQTT") == [Level.PROBLEM]
    assert "refused" in " ".join(f.detail for f in found if f.check == "MQTT")


def test_a_store_file_root_created_is_a_problem(tmp_path: Path, healthy: FakePC) -> None:
    config = hall_config(tmp_path)
    store = tmp_path / "hall.sqlite3"  # where small_hall keeps it
    healthy.node(f"{store}", HALLKEEPER, 0o640)
    os.chown(healthy.root / str(store).lstrip("/"), HALLKEEPER, HALLKEEPER)
    healthy.node(f"{store}-wal", 0, 0o640)  # `sudo hallkeeper ...` opened the store
    found = findings(healthy, config)
    assert levels(found, "数据 state") == [Level.PROBLEM]
    assert f"chown hallkeeper:hallkeeper {tmp_path}/*" == fix(found, "数据 state")
    assert "hall.sqlite3-wal" in " ".join(f.detail for f in found if f.check == "数据 state")


def speaker_config(tmp_path: Path, pack: Path | None) -> Path:
    speech = {"zh": {"pack": str(pack)}} if pack is not None else {}
    return hall_config(
        tmp_path,
        devices=[{"id": "speaker-hall", "model": "speaker", "alsa": {"device": "default"}}],
        voice={"speech": speech},
    )


def test_speakers_need_aplay_a_sound_card_and_a_pack(tmp_path: Path, healthy: FakePC) -> None:
    config = speaker_config(tmp_path, Path("/var/lib/hallkeeper/voice/zh"))

    found = findings(healthy, config)

    assert levels(found, "扬声器 speakers") == [Level.PROBLEM, Level.PROBLEM]
    assert "apt-get install alsa-utils" in fix(found, "扬声器 speakers")
    assert levels(found, "语音 voice zh") == [Level.PROBLEM]
    assert "hallkeeper voice-pack --config FILE --language zh" in fix(found, "语音 voice zh")


def test_a_pack_that_lacks_words_and_no_espeak_is_a_warning(
    tmp_path: Path, healthy: FakePC
) -> None:
    folder = "/var/lib/hallkeeper/voice/zh"
    tone_pack(healthy.root / folder.lstrip("/"), "zh", pack_tokens(Voice(), "zh")[:-1])
    healthy.write("/usr/bin/aplay", "")
    (healthy.root / "dev/snd").mkdir(parents=True)
    config = speaker_config(tmp_path, Path(folder))

    found = findings(healthy, config)

    assert levels(found, "扬声器 speakers") == [Level.OK]
    (voice,) = [f for f in found if f.check == "语音 voice zh"]
    assert (voice.level, voice.detail) == (Level.WARNING, "缺 lacks Z")

    healthy.write("/usr/bin/espeak-ng", "")  # it says what the pack lacks
    (voice,) = [f for f in findings(healthy, config) if f.check == "语音 voice zh"]
    assert voice.level is Level.OK and voice.detail.endswith(f"{folder}: 42 clips")
