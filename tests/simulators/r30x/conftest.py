"""The host's side of a simulated fingerprint module: pyserial on the link's path and the
R30x codec, as the daemon has it; and links that are stopped after each test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from drivers.codec import FrameError
from drivers.r30x import codec as r30x
from simulators.r30x import SerialFingerprintLink, SimulatedFingerprintModule

#: How long the host waits for an answer; the simulator answers at once.
DEADLINE = 1.0


class Host:
    """The daemon's end of the serial line: sends commands, decodes what comes back."""

    def __init__(self, path: Path | str, address: int = r30x.DEFAULT_ADDRESS) -> None:
        self.port = serial.Serial(str(path), 57600, timeout=0.01)
        self.address = address
        self.decoder = r30x.Decoder()
        self.raw = bytearray()

    def exchange(
        self, packet: r30x.Packet | bytes, deadline: float = DEADLINE
    ) -> r30x.Packet | FrameError | None:
        """Send ``packet``; the first thing decoded from the answer, or None if nothing
        came within ``deadline`` seconds (the decoder is then reset, as a host does)."""
        self.port.write(r30x.encode(packet) if isinstance(packet, r30x.Packet) else packet)
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            data = self.port.read(256)
            self.raw += data
            items = self.decoder.feed(data)
            if items:
                assert len(items) == 1, f"one answer expected, got {items}"
                return items[0]
        self.decoder.reset()
        return None

    def ask(self, packet: r30x.Packet | bytes) -> r30x.Ack:
        """Send ``packet`` and return the module's ack, which must arrive and be sound."""
        answer = self.exchange(packet)
        assert isinstance(answer, r30x.Packet), f"no sound answer to {packet}: {answer}"
        assert answer.address == self.address
        parsed = r30x.parse_ack(answer)
        assert isinstance(parsed, r30x.Ack), parsed
        return parsed

    def capture(self, buffer: int, tries: int = 20) -> int:
        """GenImg until a finger is imaged (or ``tries`` run out), then Img2Tz(buffer):
        the result code of the last step."""
        for _ in range(tries):
            code = self.ask(r30x.gen_img(self.address)).code
            if code != r30x.Result.NO_FINGER:
                break
            time.sleep(0.01)
        if code != r30x.Result.OK:
            return code
        return self.ask(r30x.img2tz(buffer, self.address)).code

    def identify(self, capacity: int) -> r30x.SearchHit | int:
        """The identify cycle of PROTOCOLS.md: the page found, or the failing result code."""
        code = self.capture(1)
        if code != r30x.Result.OK:
            return code
        answer = self.ask(r30x.search(1, 0, capacity, self.address))
        if answer.code != r30x.Result.OK:
            return answer.code
        hit = r30x.parse_search(answer)
        assert isinstance(hit, r30x.SearchHit), hit
        return hit

    def close(self) -> None:
        self.port.close()


@pytest.fixture
def start_link(tmp_path: Path) -> Iterator[Callable[[SimulatedFingerprintModule], Host]]:
    """Start a module's pty link at ``tmp_path/ID`` and open the host's port on it; both
    are closed after the test."""
    opened: list[tuple[SerialFingerprintLink, Host]] = []

    def start(module: SimulatedFingerprintModule) -> Host:
        link = SerialFingerprintLink(module, tmp_path / module.id)
        link.start()
        try:
            host = Host(link.path, module.address)
        except BaseException:
            link.stop()
            raise
        opened.append((link, host))
        return host

    yield start
    for link, host in opened:
        host.close()
        link.stop()


class FakeClock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
