"""The checks of `hallkeeper doctor`, each a list of findings: what was looked
at, how it is, and what to do about it, Chinese first."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from daemon.config.loader import check_config, load_config
from daemon.config.model import HallConfig, entries_of, printers, speakers, spoken_languages
from daemon.doctor.machine import Account, Machine, UsbDevice, can_open
from daemon.mqtt.broker import BrokerUrl, parse_broker
from daemon.status_socket import StatusUnavailable, read_status, status_socket_path
from daemon.voice.script import pack_tokens
from devices.attendance_config import ReaderConfig
from drivers.audio.pack import PackError, load_pack

RULES = "61-hallkeeper.rules"
NAMES = "62-hallkeeper-names.rules"
INSTALL = "systemd/install.sh"  # in the hallkeeper sources
BROKER_SECONDS = 5.0


class Level(StrEnum):
    OK = "ok"
    NOTE = "note"  # worth knowing; nothing is broken
    WARNING = "warning"  # may break something later
    PROBLEM = "problem"  # keeps a device or the hall from working


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    detail: str
    fix: str = ""


def config_findings(path: Path) -> tuple[HallConfig | None, list[Finding]]:
    problems = check_config(path)
    if problems:
        return None, [
            Finding(
                "配置 config",
                Level.PROBLEM,
                problem.render(str(path)),
                f"修改配置文件 edit {path}; check with: hallkeeper check-config {path}",
            )
            for problem in problems
        ]
    return load_config(path), [Finding("配置 config", Level.OK, f"{path}: ok")]


def account_findings(machine: Machine, user: str) -> tuple[Account | None, list[Finding]]:
    account = machine.account(user)
    if account is None:
        return None, [
            Finding(
                "用户 user",
                Level.PROBLEM,
                f"没有用户 {user}，守护进程无法以它运行 there is no user {user} to run the daemon",
                f"运行安装脚本 run {INSTALL} (it installs /usr/lib/sysusers.d/hallkeeper.conf)",
            )
        ]
    groups = ", ".join(account.groups) or "-"
    return account, [Finding("用户 user", Level.OK, f"{user} (uid {account.uid}), groups {groups}")]


def serial_paths(config: HallConfig) -> list[tuple[str, str]]:
    """(what uses it, device path) of every serial line the config names."""
    paths = [(link.id, link.url) for link in config.links if "://" not in link.url]
    paths += [(r.id, r.serial.device) for r in entries_of(config, ReaderConfig)]
    paths += [(p.id, p.serial.device) for p in printers(config) if p.serial is not None]
    return paths


def port_findings(machine: Machine, config: HallConfig, account: Account | None) -> list[Finding]:
    findings = []
    for user, device in serial_paths(config):
        check = f"串口 serial {user}"
        path = machine.path(device)
        if not path.exists():
            findings.append(
                Finding(
                    check,
                    Level.PROBLEM,
                    f"找不到 {device} not found",
                    f"插好转换器，或在 /etc/udev/rules.d/{NAMES} 里给它起这个名字（端口见"
                    "“USB 串口”一行） plug the adapter in, or give it this name in "
                    f"/etc/udev/rules.d/{NAMES} (ports in the USB serial rows)",
                )
            )
            continue
        findings.append(_access(machine, check, device, path.resolve(), account, "dialout"))
    return findings


def _access(
    machine: Machine, check: str, device: str, path: Path, account: Account | None, group: str
) -> Finding:
    shown = f"{device} → /{path.relative_to(machine.root)} ({machine.describe(path)})"
    if account is None or can_open(path, account):
        return Finding(check, Level.OK, shown)
    return Finding(
        check,
        Level.PROBLEM,
        f"{account.name} 无权读写 cannot open {shown}",
        f"安装 udev 规则 install the udev rules ({INSTALL}), which give it to group {group}; "
        f"or: usermod -aG {group} {account.name}",
    )


def state_findings(machine: Machine, config: HallConfig, account: Account | None) -> list[Finding]:
    """The store and the token file must stay the daemon's: a command run as
    root that creates one of them (or the store's -wal file) locks it out."""
    if account is None or account.uid == 0:
        return []
    store = config.storage.path
    files = [store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")]
    taken = [
        f"{path} ({machine.describe(found)})"
        for path in [*files, config.secrets]
        if (found := machine.path(path)).exists() and found.stat().st_uid != account.uid
    ]
    if not taken:
        return []
    return [
        Finding(
            "数据 state",
            Level.PROBLEM,
            f"{account.name} 不是这些文件的所有者 does not own: {', '.join(taken)}",
            f"chown {account.name}:{account.name} "
            + " ".join(str(p) for p in [store.parent])
            + "/*",
        )
    ]


def adapter_findings(machine: Machine) -> list[Finding]:
    """Every USB serial adapter plugged in, with its stable name."""
    return [
        Finding(
            "USB 串口 USB serial",
            Level.NOTE,
            f"/dev/{port.tty}: {port.device.ids} ({port.driver or 'no driver'}) "
            f"on USB port {port.device.port} → /dev/hallkeeper/usb-serial-{port.device.port}",
            _power_fix(port.device) if _autosuspends(machine, port.device) else "",
        )
        for port in machine.serial_ports()
    ]


def usb_printer_findings(
    machine: Machine, config: HallConfig, account: Account | None
) -> list[Finding]:
    findings = []
    devices = machine.usb_devices()
    for printer in printers(config):
        if printer.usb is None:
            continue
        usb = printer.usb
        check = f"USB 打印机 printer {printer.id}"
        found = [
            d
            for d in devices
            if (d.vendor, d.product) == (usb.vendor, usb.product)
            and (usb.serial is None or d.serial == usb.serial)
        ]
        wanted = f"{usb.vendor:04x}:{usb.product:04x}" + (
            f" serial {usb.serial}" if usb.serial else ""
        )
        if not found:
            findings.append(
                Finding(
                    check,
                    Level.PROBLEM,
                    f"未找到 USB 设备 {wanted} not connected",
                    "检查打印机电源和 USB 线 check the printer's power and USB cable (lsusb)",
                )
            )
            continue
        device = found[0]
        if device.node is not None and device.node.exists():
            findings.append(
                _access(machine, check, f"USB {device.port}", device.node, account, "lp")
            )
        if "usblp" in device.drivers.values():
            findings.append(
                Finding(
                    check,
                    Level.WARNING,
                    f"内核打印驱动 usblp 占用 {device.port} the kernel's usblp driver holds it",
                    "hallkeeper 打印时会将其分离；若 CUPS 也在用它会冲突 hallkeeper detaches it "
                    "to print, but CUPS may print to it too: echo 'blacklist usblp' > "
                    "/etc/modprobe.d/hallkeeper-usblp.conf && rmmod usblp",
                )
            )
        if _autosuspends(machine, device):
            findings.append(
                Finding(
                    check,
                    Level.WARNING,
                    "USB 自动休眠开启 USB autosuspend is on",
                    _power_fix(device),
                )
            )
    return findings


def voice_findings(machine: Machine, config: HallConfig) -> list[Finding]:
    """Speakers: aplay and a sound card for ALSA outputs, and for every
    language said, its clip pack, or espeak-ng for the words it lacks."""
    configured = speakers(config)
    if not configured:
        return []
    findings = []
    if any(speaker.alsa is not None for speaker in configured):
        findings += _sound_card(machine)
    said = [language for s in configured for language in spoken_languages(config, s)]
    for language in dict.fromkeys(said):
        findings += _language(machine, config, language)
    return findings


def _sound_card(machine: Machine) -> list[Finding]:
    check = "扬声器 speakers"
    found = []
    if not machine.path("/usr/bin/aplay").exists():
        problem = "aplay 未安装 aplay is not installed"
        found.append(Finding(check, Level.PROBLEM, problem, "apt-get install alsa-utils"))
    if not machine.path("/dev/snd").is_dir():
        problem = "没有声卡 no sound card (/dev/snd)"
        found.append(
            Finding(check, Level.PROBLEM, problem, "检查声卡 check the sound card: aplay -l")
        )
    return found or [Finding(check, Level.OK, "aplay, /dev/snd")]


def _language(machine: Machine, config: HallConfig, language: str) -> list[Finding]:
    check = f"语音 voice {language}"
    speech = config.voice.speech_of(language)
    synthesis = speech.synthesis_voice(language)
    espeak = synthesis is not None and machine.path("/usr/bin/espeak-ng").exists()
    make = f"hallkeeper voice-pack --config FILE --language {language}"
    if speech.pack is None:
        if espeak:
            return [Finding(check, Level.OK, f"espeak-ng -v {synthesis}")]
        problem = "没有语音包也没有 espeak-ng no clip pack and no espeak-ng"
        return [Finding(check, Level.PROBLEM, problem, "apt-get install espeak-ng")]
    try:
        pack = load_pack(machine.path(speech.pack))
    except PackError as exc:
        fix = make if espeak else f"录制语音包 record the pack: {make} --list"
        return [Finding(check, Level.PROBLEM, str(exc), fix)]
    lacking = [t for t in pack_tokens(config.voice, language) if pack.clip(t) is None]
    problems = list(pack.problems)
    if lacking and not espeak:
        problems.append(f"缺 lacks {', '.join(lacking[:8])}" + (" …" if lacking[8:] else ""))
    if problems:
        return [Finding(check, Level.WARNING, "; ".join(problems), f"补录 record: {make} --list")]
    return [Finding(check, Level.OK, f"{speech.pack}: {len(pack.clips)} clips")]


def _autosuspends(machine: Machine, device: UsbDevice) -> bool:
    delay = machine.read("/sys/module/usbcore/parameters/autosuspend")
    enabled = delay is not None and delay.lstrip("-").isdigit() and int(delay) >= 0
    return enabled and device.power_control == "auto"


def _power_fix(device: UsbDevice) -> str:
    return (
        f"USB 自动休眠可能关掉 {device.port} autosuspend may switch {device.port} off: install the "
        f"udev rules ({INSTALL}; they set power/control=on), or boot with usbcore.autosuspend=-1"
    )


def cups_findings(machine: Machine) -> list[Finding]:
    if not machine.running("cupsd"):
        return []
    text = machine.read("/etc/cups/printers.conf") or ""
    queues: list[tuple[str, str]] = []
    name = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("<Printer ", "<DefaultPrinter ")):
            name = line.split(" ", 1)[1].rstrip(">")
        elif line.startswith("DeviceURI usb:") and name:
            queues.append((name, line.split(" ", 1)[1]))
    if not queues:
        return [Finding("CUPS", Level.OK, "CUPS 运行中，无 USB 打印队列 runs with no USB queue")]
    return [
        Finding(
            "CUPS",
            Level.WARNING,
            f"CUPS 队列 {queue} 使用 USB 打印机 queue {queue} prints to {uri}",
            f"若它是取号机打印机，请删除 if it is a kiosk printer: lpadmin -x {queue}",
        )
        for queue, uri in queues
    ]


def brltty_findings(machine: Machine, config: HallConfig | None) -> list[Finding]:
    rules = machine.udev_rule("85-brltty.rules")
    if rules is None and not machine.running("brltty"):
        return [Finding("brltty", Level.OK, "未安装 not installed")]
    serial = config is None or bool(serial_paths(config))
    return [
        Finding(
            "brltty",
            Level.PROBLEM if serial else Level.WARNING,
            "brltty（盲文显示器服务）会抢占 CH340、CP210x 等 USB 串口 brltty (braille displays) "
            "takes CH340, CP210x and other USB serial adapters for itself",
            "apt purge brltty (or: systemctl mask brltty-udev.service)",
        )
    ]


def modem_manager_findings(machine: Machine) -> list[Finding]:
    rules = machine.udev_rule(RULES)
    if not machine.running("ModemManager"):
        return [Finding("ModemManager", Level.OK, "未运行 not running")]
    if rules is not None:
        return [
            Finding(
                "ModemManager",
                Level.OK,
                f"运行中；{RULES} 让它忽略串口 runs; {RULES} tells it to leave the adapters alone",
            )
        ]
    return [
        Finding(
            "ModemManager",
            Level.PROBLEM,
            "ModemManager 会向新接入的串口发送 AT 指令 probes every new serial adapter with AT "
            "commands, which garbles the RS-485 bus",
            f"安装 udev 规则 install the udev rules ({INSTALL}), or: systemctl disable --now "
            "ModemManager",
        )
    ]


def udev_findings(machine: Machine) -> list[Finding]:
    if machine.udev_rule(RULES) is not None:
        return [Finding("udev", Level.OK, f"{RULES} installed")]
    return [
        Finding(
            "udev",
            Level.WARNING,
            f"未安装 {RULES}：没有 /dev/hallkeeper/ 名称和权限 not installed: no stable names "
            "or permissions for the adapters and printers",
            f"运行安装脚本 run {INSTALL}",
        )
    ]


def broker_findings(config: HallConfig) -> list[Finding]:
    if config.mqtt is None:
        return []
    target = parse_broker(config.mqtt.broker, config.mqtt.ca_file)
    if not isinstance(target, BrokerUrl):
        return [Finding("MQTT", Level.OK, "内置代理 the embedded broker (in the daemon)")]
    reason = _connect(target)
    if reason is None:
        return [Finding("MQTT", Level.OK, f"{target.where}: connected")]
    return [
        Finding(
            "MQTT",
            Level.PROBLEM,
            f"连不上 cannot connect to {target.where}: {reason}",
            "检查 mqtt.broker 的地址、用户名和密码，以及代理是否运行 check the address, user "
            "and password in mqtt.broker, and that the broker runs",
        )
    ]


def _connect(target: BrokerUrl) -> str | None:
    """None once the broker accepted a connection, else why not."""
    answer: dict[str, Any] = {}
    done = threading.Event()

    def connected(client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        answer["reason"] = None if not reason.is_failure else str(reason)
        done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hallkeeper-doctor")
    if target.username is not None:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set(
            ca_certs=str(target.ca_file) if target.ca_file else None,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    client.on_connect = connected
    try:
        client.connect(target.host, target.port, keepalive=10)
    except (OSError, ssl.SSLError) as exc:
        return str(exc)
    client.loop_start()
    try:
        if not done.wait(BROKER_SECONDS):
            return f"no answer within {BROKER_SECONDS:.0f} s"
        return answer["reason"]
    finally:
        client.disconnect()
        client.loop_stop()


def daemon_findings(config: HallConfig) -> list[Finding]:
    try:
        document = read_status(status_socket_path(config.storage.path))
    except StatusUnavailable as exc:
        return [
            Finding(
                "守护进程 daemon",
                Level.WARNING,
                str(exc),
                "systemctl start hallkeeper; journalctl -u hallkeeper",
            )
        ]
    devices = document["health"]["devices"]
    online = sum(d["state"] == "online" for d in devices)
    return [
        Finding(
            "守护进程 daemon",
            Level.OK,
            f"运行中 running; {online}/{len(devices)} 台设备在线 devices online",
        )
    ]


def all_findings(machine: Machine, config_path: Path, user: str) -> Iterator[Finding]:
    config, found = config_findings(config_path)
    yield from found
    account, found = account_findings(machine, user)
    yield from found
    if config is not None:
        yield from port_findings(machine, config, account)
        yield from state_findings(machine, config, account)
        yield from usb_printer_findings(machine, config, account)
        yield from voice_findings(machine, config)
    yield from adapter_findings(machine)
    yield from cups_findings(machine)
    yield from brltty_findings(machine, config)
    yield from modem_manager_findings(machine)
    yield from udev_findings(machine)
    if config is not None:
        yield from broker_findings(config)
        yield from daemon_findings(config)
