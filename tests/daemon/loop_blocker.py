"""`hallkeeper` as a test runs it to hang its event loop on purpose: SIGUSR1
makes the main thread, which runs the event loop, sleep for
$HALLKEEPER_TEST_BLOCK_SECONDS while the device threads carry on. It prints
when the block starts and ends, in time.monotonic(), which is the same
clock in every process of the machine."""

from __future__ import annotations

import os
import signal
import sys
import time
from types import FrameType

from daemon.cli import main


def _block(signum: int, frame: FrameType | None) -> None:
    print(f"loop blocked at {time.monotonic()}", flush=True)
    time.sleep(float(os.environ["HALLKEEPER_TEST_BLOCK_SECONDS"]))
    print(f"loop free at {time.monotonic()}", flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _block)
    sys.exit(main())
