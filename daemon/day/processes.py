"""The simulated hall and the daemon of a simulated day, as processes:
`hallkeeper simulate` (the simulators and their MQTT broker) in one, the daemon
(`hallkeeper run` on the overlay config) in another, so the daemon can be
SIGKILLed and restarted while the devices stay up."""

from __future__ import annotations

from pathlib import Path

from daemon.bench.daemon_process import DaemonProcess
from daemon.simulate.process import SimulateProcess


class HallProcesses:
    def __init__(self, config: Path, folder: Path) -> None:
        self.simulate = SimulateProcess(config, folder / "sim")
        self.daemon: DaemonProcess | None = None

    @property
    def control(self) -> str:
        return self.simulate.control

    @property
    def base_url(self) -> str:
        assert self.daemon is not None
        return self.daemon.base_url

    def start(self) -> HallProcesses:
        """RuntimeError with the output of whichever did not start."""
        self.simulate.start()
        self.start_daemon()
        return self

    def start_daemon(self) -> str:
        """Start the daemon (again); the base URL of its API."""
        self.daemon = DaemonProcess(self.simulate.overlay).start()
        return self.daemon.base_url

    def kill_daemon(self) -> None:
        if self.daemon is not None:
            self.daemon.kill()

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
        self.simulate.stop()
