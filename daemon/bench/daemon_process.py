"""A hallkeeper daemon in a child process, as benchmarks and process tests run it."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_API_LINE = re.compile(r"API\s+(http://\S+)/api/v1")


class DaemonProcess:
    """`hallkeeper run --config FILE [ARGS]` started, waited for, and stopped or killed."""

    def __init__(
        self,
        config: Path,
        startup_timeout: float = 30.0,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        module: str = "daemon.cli",
    ) -> None:
        """`module` is run with `python -m`: the hallkeeper command, or a test's wrapper of it."""
        self.config = config
        self.module = module
        self.startup_timeout = startup_timeout
        self.args = list(args)
        self.env = dict(env or {})
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.output: list[str] = []
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._reader: threading.Thread | None = None

    def start(self) -> DaemonProcess:
        self.output = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "run", "--config", str(self.config), *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        # read all along, so a chatty daemon never blocks on a full pipe
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.base_url = self._wait_for_api()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for_api(self) -> str:
        deadline = time.monotonic() + self.startup_timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            found = _API_LINE.search(line)
            if found:
                return found.group(1)
        self.kill()
        raise RuntimeError("the daemon did not start:\n" + "".join(self.output))

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up, as in a power cut."""
        self._signal(signal.SIGKILL)

    def stop(self) -> int:
        """SIGTERM, and the exit code."""
        self._signal(signal.SIGTERM)
        return self.process.returncode if self.process else 0

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        self.process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=5)
