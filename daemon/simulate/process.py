"""`hallkeeper simulate` as a child process, for code that runs a simulated hall
beside a daemon of its own (a day-of-hall runner, process tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from daemon.simulate.overlay import OVERLAY_NAME
from simulators.control import ControlError, request
from simulators.ports import free_port

__all__ = ["SimulateProcess"]


class SimulateProcess:
    """`hallkeeper simulate --config CONFIG --folder FOLDER` as a child process."""

    def __init__(
        self,
        config: Path,
        folder: Path,
        control: str | None = None,
        startup_timeout: float = 30.0,
        module: str = "daemon.cli",
    ) -> None:
        """`control` None: a free loopback port. `module` is run with `python -m`."""
        self.config = config
        self.folder = folder
        #: The control endpoint the simulators answer on.
        self.control: str = control or f"tcp://127.0.0.1:{free_port()}"
        self.startup_timeout = startup_timeout
        self.module = module
        self.process: subprocess.Popen[str] | None = None
        #: Everything it printed so far (stdout and stderr).
        self.output: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def overlay(self) -> Path:
        """FOLDER/hall.yaml: the config the daemon runs on."""
        return self.folder / OVERLAY_NAME

    def start(self) -> SimulateProcess:
        """Start it; returns once the overlay is written and the control endpoint
        answers. RuntimeError with its output if it does not within the timeout."""
        self.overlay.unlink(missing_ok=True)
        self.output = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                self.module,
                "simulate",
                "--config",
                str(self.config),
                "--folder",
                str(self.folder),
                "--control",
                self.control,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        # read all along, so a chatty process never blocks on a full pipe
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.overlay.is_file() and self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("hallkeeper simulate did not start:\n" + "".join(self.output))

    def request(self, verb: str, **args: Any) -> dict[str, Any]:
        """One request to its simulators (`simulators.control.request`)."""
        return request(self.control, verb, **args)

    def stop(self) -> None:
        """SIGTERM, wait, SIGKILL if it does not stop. Safe to repeat."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if self._reader is not None:
            self._reader.join(timeout=5)

    def __enter__(self) -> SimulateProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            return bool(request(self.control, "list", timeout=1.0).get("ok"))
        except ControlError:
            return False

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
