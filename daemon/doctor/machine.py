"""What `hallkeeper doctor` reads of the PC: users and groups, device files,
USB devices and their drivers in sysfs, running processes, udev rules.
Everything is under `root` (/ on a hall PC), so tests can build a machine
in a folder."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

UDEV_RULES = ("etc/udev/rules.d", "usr/lib/udev/rules.d", "lib/udev/rules.d")


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gids: frozenset[int]
    groups: tuple[str, ...]  # names, for messages


@dataclass(frozen=True)
class UsbDevice:
    port: str  # the kernel's name for its USB port: 1-1.2
    vendor: int
    product: int
    serial: str | None
    node: Path | None  # /dev/bus/usb/BBB/DDD under the root
    power_control: str | None  # on, auto
    drivers: dict[str, str] = field(default_factory=dict)  # interface -> bound driver
    printer: bool = False  # has an interface of class 07 (printer)

    @property
    def ids(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"


@dataclass(frozen=True)
class SerialPort:
    tty: str  # ttyUSB0
    device: UsbDevice
    driver: str | None


class Machine:
    def __init__(self, root: Path = Path("/")) -> None:
        self.root = root

    def path(self, absolute: str | Path) -> Path:
        return self.root / str(absolute).lstrip("/")

    # -- accounts --------------------------------------------------------------------

    def account(self, name: str) -> Account | None:
        passwd = _table(self.path("/etc/passwd"))
        entry = next((row for row in passwd if row[0] == name), None)
        if entry is None or len(entry) < 4:
            return None
        uid, gid = int(entry[2]), int(entry[3])
        gids, names = {gid}, []
        for row in _table(self.path("/etc/group")):
            if len(row) < 4:
                continue
            members = row[3].split(",") if row[3] else []
            if int(row[2]) == gid or name in members:
                gids.add(int(row[2]))
                names.append(row[0])
        return Account(name, uid, frozenset(gids), tuple(names))

    def group_name(self, gid: int) -> str:
        for row in _table(self.path("/etc/group")):
            if len(row) >= 3 and row[2] == str(gid):
                return row[0]
        return str(gid)

    def user_name(self, uid: int) -> str:
        for row in _table(self.path("/etc/passwd")):
            if len(row) >= 3 and row[2] == str(uid):
                return row[0]
        return str(uid)

    def describe(self, path: Path) -> str:
        """`root:dialout 0660` of a file under the root."""
        info = path.stat()
        owner = f"{self.user_name(info.st_uid)}:{self.group_name(info.st_gid)}"
        return f"{owner} {stat.S_IMODE(info.st_mode):04o}"

    # -- devices ---------------------------------------------------------------------

    def usb_devices(self) -> list[UsbDevice]:
        folder = self.path("/sys/bus/usb/devices")
        if not folder.is_dir():
            return []
        found = []
        for entry in sorted(folder.iterdir()):
            device = self._usb_device(entry.resolve())
            if device is not None:
                found.append(device)
        return found

    def _usb_device(self, folder: Path) -> UsbDevice | None:
        vendor, product = _read(folder / "idVendor"), _read(folder / "idProduct")
        if vendor is None or product is None:
            return None  # an interface, not a device
        busnum, devnum = _read(folder / "busnum"), _read(folder / "devnum")
        node = None
        if busnum and devnum:
            node = self.path(f"/dev/bus/usb/{int(busnum):03d}/{int(devnum):03d}")
        drivers, printer = {}, False
        for interface in sorted(folder.glob(f"{folder.name}:*")):
            printer = printer or _read(interface / "bInterfaceClass") == "07"
            driver = interface / "driver"
            if driver.exists():
                drivers[interface.name] = driver.resolve().name
        return UsbDevice(
            port=folder.name,
            vendor=int(vendor, 16),
            product=int(product, 16),
            serial=_read(folder / "serial"),
            node=node,
            power_control=_read(folder / "power" / "control"),
            drivers=drivers,
            printer=printer,
        )

    def serial_ports(self) -> list[SerialPort]:
        """USB serial adapters (ttyUSB*, ttyACM*) with the USB device behind each."""
        folder = self.path("/sys/class/tty")
        if not folder.is_dir():
            return []
        ports = []
        for entry in sorted(folder.iterdir()):
            if not entry.name.startswith(("ttyUSB", "ttyACM")):
                continue
            here = entry.resolve()
            interface = None
            for parent in here.parents:
                if (parent / "idVendor").is_file():
                    device = self._usb_device(parent)
                    if device is not None:
                        driver = device.drivers.get(interface.name) if interface else None
                        ports.append(SerialPort(entry.name, device, driver))
                    break
                if (parent / "bInterfaceNumber").is_file():
                    interface = parent
        return ports

    def resolve(self, device: str) -> Path:
        """A /dev path under the root with its symlinks (udev's are relative) followed."""
        return self.path(device).resolve()

    # -- processes and packages ------------------------------------------------------

    def running(self, command: str) -> bool:
        proc = self.path("/proc")
        if not proc.is_dir():
            return False
        for entry in proc.iterdir():
            if entry.name.isdigit() and _read(entry / "comm") == command:
                return True
        return False

    def udev_rule(self, name: str) -> Path | None:
        for folder in UDEV_RULES:
            candidate = self.path(f"/{folder}/{name}")
            if candidate.is_file():
                return candidate
        return None

    def read(self, absolute: str) -> str | None:
        return _read(self.path(absolute))


def can_open(path: Path, account: Account) -> bool:
    """Whether `account` may read and write `path`, by its owner, group and mode."""
    if account.uid == 0:
        return True
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid == account.uid:
        return mode & 0o600 == 0o600
    if info.st_gid in account.gids:
        return mode & 0o060 == 0o060
    return mode & 0o006 == 0o006


def _table(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
