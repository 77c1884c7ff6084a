"""The hall's MQTT broker for a simulated hall: Debian's mosquitto, as a process
that a fault can stop (``hallkeeper sim fault broker down``) and start again on
the same port (``... broker ok``).

It listens on 127.0.0.1 only, anonymous, without persistence: what a hall's
broker loses when it restarts, the daemon republishes (its retained state) or
its outbox sends again (events).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from simulators.ports import LOOPBACK, can_listen, free_port

__all__ = ["BROKER_FAULTS", "MOSQUITTO_MISSING", "MosquittoBroker", "mosquitto_binary"]

FAULT_DOWN, FAULT_OK = "down", "ok"
BROKER_FAULTS = (FAULT_DOWN, FAULT_OK)
MOSQUITTO_MISSING = "mosquitto is not installed (apt-get install mosquitto)"
PR_SET_PDEATHSIG = 1

# max_queued_messages as in systemd/mosquitto/hall.conf: a subscriber that falls
# behind must not lose QoS 1 messages.
CONFIG = """\
# written by hallkeeper simulate
listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
user {user}
"""


def mosquitto_binary() -> str | None:
    """Debian's mosquitto; /usr/sbin is not on every PATH."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/local/sbin"):
        candidate = Path(folder) / "mosquitto"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _die_with_parent() -> None:
    """In the child: SIGTERM when the thread that started it ends (the simulators were
    killed), so no broker outlives them."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class MosquittoBroker:
    """One mosquitto with its config and log in `folder`, on a free loopback port."""

    id = "broker"
    kind = "mqtt-broker"
    model = "mosquitto"

    def __init__(self, binary: str, folder: Path, port: int | None = None) -> None:
        """Without `port`, the one of the last broker in `folder` if it is free (a daemon
        still connected to it finds the new one), else any free port."""
        self.binary = binary
        self.folder = folder
        self.config_path = folder / "mosquitto.conf"
        self.port = port or _previous_port(self.config_path) or free_port()
        self.log_path = folder / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"mqtt://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start it (again, on the same port) and wait until it takes connections;
        RuntimeError with its log if it does not."""
        with self._lock:
            if self.running:
                return
            self._write_config()
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    [self.binary, "-c", str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.folder,
                    preexec_fn=_die_with_parent,
                )
            process = self._process
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {process.returncode}:\n{self._log()}")
            if _accepts(self.port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on port {self.port}:\n{self._log()}")

    def _write_config(self) -> None:
        # Started as root, mosquitto switches to the user "mosquitto", who may not
        # reach the folder: it stays who we are.
        user = pwd.getpwuid(os.getuid()).pw_name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(CONFIG.format(port=self.port, user=user), encoding="utf-8")

    def stop(self) -> None:
        """SIGTERM, SIGKILL if it hangs. Safe to repeat."""
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                return
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    # --- what the control endpoint asks -----------------------------------------------

    @property
    def faults(self) -> list[str]:
        return [] if self.running else [FAULT_DOWN]

    def set_fault(self, kind: str) -> None:
        if kind == FAULT_DOWN:
            self.stop()
        elif kind == FAULT_OK:
            self.start()
        else:
            supported = ", ".join(BROKER_FAULTS)
            raise ValueError(f"the broker does not support fault {kind!r} (supported: {supported})")

    def describe(self) -> dict[str, Any]:
        """What `sim list` shows of it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "model": self.model,
            "address": f"{LOOPBACK}:{self.port}",
            "faults": self.faults,
        }

    def snapshot(self) -> dict[str, Any]:
        """What `sim show broker` shows."""
        pid = self._process.pid if self.running and self._process else None
        return {**self.describe(), "url": self.url, "pid": pid, "log": str(self.log_path)}

    def _log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        return ""


def _previous_port(config: Path) -> int | None:
    """The port in an earlier config of ours, if nothing listens on it now."""
    try:
        text = config.read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"^listener (\d+) ", text, re.MULTILINE)
    if found is None:
        return None
    port = int(found.group(1))
    return port if can_listen(port) else None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False
