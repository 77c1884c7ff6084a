"""The simulated hall and the daemon of a simulated day, as processes.

With `hallkeeper simulate` available (daemon.simulate.process), the
simulators run in one process and the daemon in another, so the daemon can be
SIGKILLed and restarted while the devices stay up, and the simulated MQTT
broker can be stopped. Without it, the daemon runs with `--simulate` (the
simulators inside it), and the faults that need the split are skipped.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from daemon.bench.daemon_process import DaemonProcess
from daemon.bench.printing import free_port
from simulators.control import ENV_ENDPOINT


def _simulate_process_class() -> Any:
    try:
        module = importlib.import_module("daemon.simulate.process")
    except ImportError:
        return None
    return getattr(module, "SimulateProcess", None)


class HallProcesses:
    def __init__(self, config: Path, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self._simulate_class = _simulate_process_class()
        self.simulate: Any = None
        self.daemon: DaemonProcess | None = None
        self.control = ""
        self._daemon_config = config
        self._daemon_args: list[str] = []
        self._env: dict[str, str] = {}

    @property
    def separate(self) -> bool:
        """Whether the daemon runs apart from the simulators (it can be killed)."""
        return self._simulate_class is not None

    def start(self) -> HallProcesses:
        if self._simulate_class is not None:
            self.simulate = self._simulate_class(self.config, self.folder / "sim").start()
            self.control = self.simulate.control
            self._daemon_config = Path(self.simulate.overlay)
        else:
            self.control = f"tcp://127.0.0.1:{free_port()}"
            self._daemon_args = ["--simulate"]
            self._env = {ENV_ENDPOINT: self.control}
        self.start_daemon()
        return self

    @property
    def base_url(self) -> str:
        assert self.daemon is not None
        return self.daemon.base_url

    def start_daemon(self) -> str:
        self.daemon = DaemonProcess(
            self._daemon_config, args=self._daemon_args, env=self._env
        ).start()
        return self.daemon.base_url

    def kill_daemon(self) -> None:
        if self.daemon is not None:
            self.daemon.kill()

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
        if self.simulate is not None:
            self.simulate.stop()
