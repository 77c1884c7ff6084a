"""CPU time and peak memory of a real child process, read from /proc."""

import subprocess
import sys
import time

import pytest

from daemon.bench.process_usage import ProcessUsage

BUSY_THEN_BIG = """
import time
end = time.process_time() + 0.6
while time.process_time() < end:
    pass
block = bytearray(80 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
print("ready", flush=True)
time.sleep(30)
"""


@pytest.fixture
def child():
    process = subprocess.Popen(
        [sys.executable, "-c", BUSY_THEN_BIG], stdout=subprocess.PIPE, text=True
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_busy_process_shows_its_cpu_time_and_its_peak_memory(child):
    usage = ProcessUsage(child.pid).start()
    assert child.stdout.readline() == "ready\n"
    time.sleep(0.2)
    used = usage.read()
    assert 0.5 <= used.cpu_seconds <= used.wall_seconds + 0.1
    assert used.cpu_percent > 0
    assert used.peak_rss_mb >= 80


def test_an_idle_process_uses_next_to_no_cpu(child):
    assert child.stdout.readline() == "ready\n"
    usage = ProcessUsage(child.pid).start()
    time.sleep(0.5)
    assert usage.read().cpu_seconds < 0.1
