"""The bus master against a raw pseudo-terminal: the test plays the devices'
side byte by byte, so what the master puts on the wire, and when, is seen
exactly. The listener is a recorder standing in for the device layer."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.bus import BusMaster, Command, Endpoint, Priority
from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from drivers.links.serial_link import SerialLink

BYTE_SECONDS = 10 / 9600  # 8N1 at the buses' 9600 baud
RESEND_SECONDS = 0.25  # how long a device waits for its echo before it resends (as simulated)


@dataclass
class Recorder:
    frames: list[ff68.Frame] = field(default_factory=list)
    done: list[tuple[str, bool | None]] = field(default_factory=list)
    links: list[bool] = field(default_factory=list)

    def frame_received(self, frame: ff68.Frame) -> None:
        self.frames.append(frame)

    def command_done(self, command: Command, answered: bool | None) -> None:
        self.done.append((command.slot, answered))

    def link_changed(self, up: bool, reason: str | None) -> None:
        self.links.append(up)


class Wire:
    """The far end of the bus: a pty master the test reads and writes."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "bus"
        self.plug()

    def plug(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path.unlink(missing_ok=True)
        self.path.symlink_to(os.ttyname(slave))
        self.slave = slave  # kept open, so the host closing its port is not an unplug

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)
        self.path.unlink()

    def frames(self, count: int, timeout: float = 3.0) -> list[bytes]:
        """The next `count` frames the master writes (FF68 or IMM), in order."""
        buffer, found = b"", []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.05)[0]:
                buffer += os.read(self.master, 4096)
            buffer, found = buffer, split_frames(buffer)
        assert len(found) >= count, f"only {found} within {timeout} s"
        return found[:count]

    def frames_for(self, seconds: float) -> list[bytes]:
        """Every frame the master writes in the next `seconds`."""
        buffer = b""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if select.select([self.master], [], [], min(left, 0.05))[0]:
                buffer += os.read(self.master, 4096)
        return split_frames(buffer)

    def send(self, frame: ff68.Frame) -> None:
        os.write(self.master, ff68.encode(frame))

    def resend(self, frame: ff68.Frame) -> None:
        """A device sending `frame` again, having waited for an echo in vain."""
        time.sleep(RESEND_SECONDS)
        self.send(frame)

    def answer(self, data: bytes) -> None:
        """A device's frame right after the master's: no device can send it sooner
        than the master's frame takes to leave the wire and its own to arrive
        (anything sooner is the adapter's copy of what the master wrote)."""
        time.sleep(2 * len(data) * BYTE_SECONDS)
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def split_frames(data: bytes) -> list[bytes]:
    frames, i = [], 0
    while i < len(data):
        if data[i] == 0xFF and i + 2 < len(data):
            size = 7 + data[i + 2]
            frames.append(data[i : i + size])
            i += size
        elif data[i] == 0xAA:
            end = data.index(0xFF, i + 6) if 0xFF in data[i + 6 :] else len(data)
            frames.append(data[i : end + 1])
            i = end + 1
        else:
            i += 1
    return [f for f in frames if f]


@pytest.fixture
def wire(tmp_path: Path) -> Iterator[Wire]:
    w = Wire(tmp_path)
    yield w
    w.close()


@pytest.fixture
def bus(wire: Wire) -> Iterator[BusMaster]:
    """A bus master re-sending each picture at its own period, however short
    (the spacing of a crowded bus has tests of its own)."""
    master = BusMaster("bus-1", SerialLink(str(wire.path), 9600), refresh_spacing=0)
    yield master
    master.stop()


def keypad(address: int, recorder: Recorder, **options: Any) -> Endpoint:
    return Endpoint(
        device=f"keypad-{address}",
        address=address,
        listener=recorder,
        reply_timeout=options.pop("reply_timeout", 0.1),
        is_event=lambda f: f.func not in (ff68.FUNC_SHOW, ff68.FUNC_BEEP),
        acknowledge=ff68.echo,
        **options,
    )


def screen(address: int, recorder: Recorder) -> Endpoint:
    return Endpoint(device=f"screen-{address}", address=None, listener=recorder, gap=0.1)


def text(address: int, words: str) -> bytes:
    return imm.encode(imm.ScreenText(address, imm.Selector.WINDOW, words))


def until(check: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {check}")


def test_a_key_frame_is_echoed_and_delivered_once_even_when_resent(
    bus: BusMaster, wire: Wire
) -> None:
    recorder = Recorder()
    bus.attach(keypad(1, recorder))
    bus.start()
    until(lambda: bus.up)
    press = ff68.key_press(1, ff68.KEY_CALL)
    wire.send(press)
    assert wire.frames(1) == [ff68.encode(press)]  # the echo
    wire.resend(press)  # as if the echo had been lost
    assert wire.frames(1) == [ff68.encode(press)]
    until(lambda: bus._endpoints["keypad-1"].stats.duplicates == 1)
    assert recorder.frames == [press]


def nothing_written(wire: Wire, seconds: float = 0.2) -> bool:
    return not select.select([wire.master], [], [], seconds)[0]


def test_a_device_that_holds_its_acknowledgements_is_echoed_when_its_listener_says(
    bus: BusMaster, wire: Wire
) -> None:
    """An evaluation pad's key is acknowledged only once the rating is stored: until
    then its resends are neither echoed nor delivered again; after, they are echoed."""
    recorder = Recorder()
    pad = Endpoint(
        device="pad-5",
        address=5,
        listener=recorder,
        is_event=lambda f: f.func == ff68.FUNC_PAD_KEY,
        acknowledge=ff68.pad_ack,
        holds_acknowledgement=True,
    )
    bus.attach(pad)
    bus.start()
    until(lambda: bus.up)
    key = ff68.Frame(5, ff68.FUNC_PAD_KEY, bytes([1]))
    wire.send(key)
    until(lambda: recorder.frames == [key])
    assert nothing_written(wire)
    wire.resend(key)  # still not stored
    assert nothing_written(wire)
    bus.acknowledge("pad-5", key)
    ack = bytes.fromhex("ff 68 03 03 68 05 01 01 07 16")  # PROTOCOLS.md §1
    assert wire.frames(1) == [ack]
    wire.resend(key)  # our echo was lost: the resend is echoed at once
    assert wire.frames(1) == [ack]
    assert recorder.frames == [key]
    assert pad.stats.duplicates == 2


def test_a_command_waits_for_its_echo_and_a_silent_device_times_out_alone(
    bus: BusMaster, wire: Wire
) -> None:
    silent, answering = Recorder(), Recorder()
    bus.attach(keypad(1, silent))
    bus.attach(keypad(2, answering))
    bus.start()
    until(lambda: bus.up)
    show_1 = ff68.encode(ff68.show(1, 3, 7))
    show_2 = ff68.encode(ff68.show(2, 0, 1))
    bus.submit(Command("keypad-1", "display", show_1, Priority.DISPLAY, expect=show_1))
    bus.submit(Command("keypad-2", "display", show_2, Priority.DISPLAY, expect=show_2))
    first = wire.frames(1)
    began = time.monotonic()
    second = wire.frames(1)  # keypad-1 never answers: the master gives up, then goes on
    waited = time.monotonic() - began
    assert first + second == [show_1, show_2]
    assert waited >= 0.09  # it did wait for keypad-1's answer
    wire.answer(show_2)  # keypad-2 echoes
    until(lambda: answering.done == [("display", True)])
    assert silent.done == [("display", False)]


def test_acknowledgements_go_first_then_calls_then_other_pictures(
    bus: BusMaster, wire: Wire
) -> None:
    recorder = Recorder()
    for endpoint in (keypad(1, recorder), screen(1, recorder), screen(2, recorder)):
        bus.attach(endpoint)
    hall = text(2, "A001请到1号")
    call = text(1, "请A001号到1号窗口")
    bus.submit(Command("screen-2", "text", hall, Priority.DISPLAY))
    bus.submit(Command("screen-1", "text", call, Priority.CALL))
    press = ff68.key_press(1, ff68.KEY_RECALL)
    bus.start()
    until(lambda: bus.up)  # opening the port flushes what arrived before
    wire.send(press)
    assert set(wire.frames(3)) == {ff68.encode(press), call, hall}
    wire.resend(press)
    bus.submit(Command("screen-2", "text", hall, Priority.DISPLAY))
    bus.submit(Command("screen-1", "text", call, Priority.CALL))
    assert wire.frames(3, timeout=5) == [ff68.encode(press), call, hall]


def test_an_unanswered_picture_is_sent_again_soon_once_then_periodically(
    bus: BusMaster, wire: Wire
) -> None:
    """A keypad's new number lost on the wire would stay unseen until the next
    periodic re-send: it goes again within about a second, once; a keypad that
    stays silent is not hammered."""
    recorder = Recorder()
    bus.attach(keypad(1, recorder))
    bus.start()
    until(lambda: bus.up)
    show = ff68.encode(ff68.show(1, 3, 7))
    bus.submit(Command("keypad-1", "display", show, Priority.DISPLAY, expect=show, refresh=60))
    assert wire.frames(1) == [show]  # lost: no echo
    sent_at = time.monotonic()
    assert wire.frames(1, timeout=2.0) == [show]
    assert time.monotonic() - sent_at >= 0.9  # soon, not at once
    assert nothing_written(wire, 1.5)  # unanswered again: left to the periodic re-send
    assert recorder.done == [("display", False), ("display", False)]


def test_a_new_picture_for_a_screen_goes_again_a_second_later_once(
    bus: BusMaster, wire: Wire
) -> None:
    """A screen never answers, so a call frame garbled by a key press starting at
    the same moment would leave the old number up until the periodic re-send,
    and nothing would say so: each new picture goes once more soon after."""
    recorder = Recorder()
    bus.attach(screen(1, recorder))
    bus.start()
    until(lambda: bus.up)
    call = text(1, "请A001号到1号窗口")
    bus.submit(Command("screen-1", "text", call, Priority.CALL, refresh=60))
    assert wire.frames(1) == [call]
    sent_at = time.monotonic()
    assert wire.frames(1, timeout=2.0) == [call]
    assert time.monotonic() - sent_at >= 0.9  # soon, not at once
    assert nothing_written(wire, 1.5)  # then only the periodic re-send
    bus.submit(Command("screen-1", "text", call, Priority.CALL, refresh=60))  # a recall
    assert wire.frames(2, timeout=3.0) == [call, call]  # is sent anew, and again soon after
    assert recorder.done == [("text", None)] * 4


def test_a_newer_picture_replaces_a_waiting_one(bus: BusMaster, wire: Wire) -> None:
    recorder = Recorder()
    bus.attach(screen(1, recorder))
    for n in range(1, 6):
        bus.submit(Command("screen-1", "text", text(1, f"请A00{n}号"), Priority.CALL))
    bus.start()
    assert wire.frames(1) == [text(1, "请A005号")]
    assert not select.select([wire.master], [], [], 0.3)[0]  # nothing else was sent


def test_a_screen_gets_its_gap_without_holding_up_the_others(bus: BusMaster, wire: Wire) -> None:
    recorder = Recorder()
    bus.attach(screen(1, recorder))
    bus.attach(screen(2, recorder))
    bus.start()
    bus.submit(Command("screen-1", "text", text(1, "一"), Priority.CALL))
    wire.frames(1)
    sent_at = time.monotonic()
    bus.submit(Command("screen-1", "text", text(1, "二"), Priority.CALL))
    bus.submit(Command("screen-2", "text", text(2, "三"), Priority.DISPLAY))
    assert wire.frames(1) == [text(2, "三")]  # screen-1 is still taking in its frame
    assert wire.frames(1) == [text(1, "二")]
    assert time.monotonic() - sent_at >= 0.1


def test_a_lost_port_is_reopened_and_pictures_are_sent_again(bus: BusMaster, wire: Wire) -> None:
    recorder = Recorder()
    bus.attach(screen(1, recorder))
    picture = text(1, "请A001号到1号窗口")
    bus.submit(Command("screen-1", "text", picture, Priority.CALL, refresh=60))
    bus.start()
    assert wire.frames(1) == [picture]
    until(lambda: recorder.links == [True])
    wire.unplug()
    until(lambda: recorder.links == [True, False])
    assert bus.up is False
    beep = ff68.encode(ff68.beep(1))
    bus.submit(Command("screen-1", "beep", beep, Priority.DISPLAY))  # fails: no bus
    assert ("beep", False) in recorder.done
    wire.plug()
    until(lambda: recorder.links == [True, False, True], timeout=10)
    assert wire.frames(1) == [picture]  # the standing picture is sent again
    assert bus.reopens == 1


def test_a_standing_picture_is_re_sent_periodically(bus: BusMaster, wire: Wire) -> None:
    recorder = Recorder()
    bus.attach(screen(1, recorder))
    picture = text(1, "1号窗口 欢迎您")
    bus.submit(Command("screen-1", "text", picture, Priority.DISPLAY, refresh=0.2))
    bus.start()
    assert wire.frames(3, timeout=3) == [picture] * 3


@pytest.mark.parametrize(("spacing", "least", "most"), [(0.25, 2, 3), (0.0, 6, 9)])
def test_on_a_bus_crowded_with_pictures_each_is_re_sent_less_often_than_it_asks(
    wire: Wire, spacing: float, least: int, most: int
) -> None:
    """Six screens ask for a re-send every 0.3 s. Kept 0.25 s apart on average,
    each goes every 1.5 s (once more a second after its first send, as any new
    picture); without spacing, every 0.3 s."""
    master = BusMaster("bus-1", SerialLink(str(wire.path), 9600), refresh_spacing=spacing)
    pictures = [text(n, f"{n}号窗口 欢迎您") for n in range(1, 7)]
    for n, picture in enumerate(pictures, start=1):
        master.attach(screen(n, Recorder()))
        master.submit(Command(f"screen-{n}", "text", picture, Priority.DISPLAY, refresh=0.3))
    master.start()
    try:
        sent = Counter(wire.frames_for(2.4))
    finally:
        master.stop()
    assert set(sent) == set(pictures)
    assert all(least <= sent[picture] <= most for picture in pictures), sent.values()


def test_on_a_crowded_bus_a_change_that_may_wait_waits_for_the_re_send(wire: Wire) -> None:
    """A keypad's new waiting count may wait 0.3 s; on a bus of four pictures
    kept 0.25 s apart it rides with the re-send a second later instead."""
    master = BusMaster("bus-1", SerialLink(str(wire.path), 9600), refresh_spacing=0.25)
    for n in range(1, 5):
        master.attach(screen(n, Recorder()))
        picture = text(n, f"社保等候{n}人")
        master.submit(Command(f"screen-{n}", "text", picture, Priority.DISPLAY, refresh=60))
    master.start()
    try:
        assert len(wire.frames(8)) == 8  # each new picture twice, a second apart
        changed = text(1, "社保等候9人")
        asked_at = time.monotonic()
        count = Command("screen-1", "text", changed, Priority.DISPLAY, refresh=60, within=0.3)
        master.submit(count)
        assert wire.frames(1, timeout=2.0) == [changed]
        assert time.monotonic() - asked_at >= 0.9
    finally:
        master.stop()


def test_changes_that_may_wait_ride_with_the_next_re_send_in_one_frame(
    bus: BusMaster, wire: Wire
) -> None:
    recorder = Recorder()
    bus.attach(screen(1, recorder))
    bus.start()
    first = text(1, "社保等候5人")
    bus.submit(Command("screen-1", "text", first, Priority.DISPLAY, refresh=60))
    assert wire.frames(1) == [first]  # a picture with nothing standing goes at once
    sent_at = time.monotonic()
    for count in (6, 7, 8):
        changed = text(1, f"社保等候{count}人")
        bus.submit(Command("screen-1", "text", changed, Priority.DISPLAY, refresh=60, within=0.3))
    assert wire.frames(1) == [text(1, "社保等候8人")]  # the newest, once, when it was due
    assert time.monotonic() - sent_at >= 0.29
    assert not select.select([wire.master], [], [], 0.3)[0]
    call = text(1, "请A001号到1号窗口")
    bus.submit(Command("screen-1", "text", call, Priority.CALL, refresh=60))
    assert wire.frames(1) == [call]  # what may not wait goes at once


def test_a_change_that_may_wait_joins_a_send_already_on_its_way(bus: BusMaster, wire: Wire) -> None:
    recorder = Recorder()
    bus.attach(screen(1, recorder))
    call = text(1, "请A001号到1号窗口")
    later = text(1, "请A001号到1号窗口 张三")
    bus.submit(Command("screen-1", "text", call, Priority.CALL, refresh=60))
    bus.submit(Command("screen-1", "text", later, Priority.DISPLAY, refresh=60, within=30))
    bus.start()
    assert wire.frames(1) == [later]  # at once, with the newer text
    assert not select.select([wire.master], [], [], 0.3)[0]


def test_only_a_standing_picture_can_wait() -> None:
    with pytest.raises(ValueError, match="screen-1/text"):
        Command("screen-1", "text", b"", Priority.DISPLAY, within=1.0)


def test_a_frame_from_an_unknown_address_or_garbage_is_counted(bus: BusMaster, wire: Wire) -> None:
    recorder = Recorder()
    bus.attach(keypad(1, recorder))
    bus.start()
    until(lambda: bus.up)
    os.write(wire.master, b"\x00\x13garbage")
    wire.send(ff68.key_press(9, ff68.KEY_CALL))
    wire.send(ff68.key_press(1, ff68.KEY_CALL))
    wire.frames(1)
    assert bus.stats.errors >= 2 and len(recorder.frames) == 1


def test_stop_ends_the_thread_and_closes_the_port(wire: Wire) -> None:
    master = BusMaster("bus-1", SerialLink(str(wire.path), 9600))
    master.start()
    until(lambda: master.up)
    master.stop()
    assert not any(t.name == "bus-bus-1" for t in threading.enumerate())
    assert not master.link.is_open


def test_a_device_that_starts_while_the_master_decides_is_not_talked_over(wire: Wire) -> None:
    """A keypad starts its frame after the master's read came back empty and before
    it writes (a busy machine): the master hears it first, echoes it, and only then
    sends the call it had ready. The test plays the bus thread, one step at a time."""
    link = SerialLink(str(wire.path), 9600)
    bus = BusMaster("bus-1", link)
    recorder = Recorder()
    bus.attach(keypad(1, recorder))
    bus.attach(screen(3, recorder))
    assert bus._open()
    call = text(3, "请A001号到3号窗口")
    bus.submit(Command("screen-3", "text", call, Priority.CALL))
    press = ff68.encode(ff68.key_press(1, ff68.KEY_CALL))
    read = link.read

    def read_then_the_keypad_starts(timeout: float) -> bytes:
        data = read(timeout)
        os.write(wire.master, press[:4])
        until(lambda: select.select([wire.slave], [], [], 0)[0])
        return data

    try:
        link.read = read_then_the_keypad_starts  # type: ignore[method-assign]
        bus._step()
        link.read = read  # type: ignore[method-assign]
        assert not select.select([wire.master], [], [], 0.05)[0], "it talked over the keypad"
        os.write(wire.master, press[4:])
        deadline = time.monotonic() + 3
        while bus.stats.frames_out < 2 and time.monotonic() < deadline:
            bus._step()
        assert wire.frames(2) == [press, call]
        assert recorder.frames == [ff68.key_press(1, ff68.KEY_CALL)]
    finally:
        link.dispose()


class EchoingAdapter:
    """The far end of an adapter whose receiver stays on while it sends: every
    byte the master writes comes back to the master, `delay` seconds after it
    came in. Keeps what it saw."""

    def __init__(self, wire: Wire, delay: float = 0.0) -> None:
        self.wire = wire
        self.delay = delay
        self.seen = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if select.select([self.wire.master], [], [], 0.02)[0]:
                data = os.read(self.wire.master, 4096)
                time.sleep(self.delay)
                os.write(self.wire.master, data)
                self.seen += data

    def frames(self) -> list[bytes]:
        return split_frames(self.seen)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def echoing(bus: BusMaster, wire: Wire, delay: float = 0.0) -> Iterator[EchoingAdapter]:
    """`bus` running behind an `EchoingAdapter`."""
    adapter = EchoingAdapter(wire, delay)
    try:
        bus.start()
        until(lambda: bus.up)
        yield adapter
    finally:
        adapter.stop()


def test_on_an_adapter_that_echoes_a_key_is_echoed_once_and_only_devices_answer(
    bus: BusMaster, wire: Wire
) -> None:
    silent, answering = Recorder(), Recorder()
    bus.attach(keypad(1, silent))
    bus.attach(keypad(2, answering))
    with echoing(bus, wire) as adapter:
        press = ff68.key_press(2, ff68.KEY_CALL)
        wire.send(press)
        until(lambda: answering.frames == [press])
        time.sleep(0.3)
        # the echo's copy is not the keypad resending, to be echoed again and again
        assert adapter.frames() == [ff68.encode(press)]
        assert bus.link.local_echo is True

        show_1 = ff68.encode(ff68.show(1, 3, 7))
        bus.submit(Command("keypad-1", "display", show_1, Priority.DISPLAY, expect=show_1))
        until(lambda: silent.done)
        assert silent.done == [("display", False)]  # its copy is no answer from keypad-1

        show_2 = ff68.encode(ff68.show(2, 0, 1))
        bus.submit(Command("keypad-2", "display", show_2, Priority.DISPLAY, expect=show_2))
        until(lambda: adapter.frames()[-1:] == [show_2])
        wire.answer(show_2)  # keypad-2's own
        until(lambda: answering.done)
        assert answering.done == [("display", True)]


def test_an_echoing_adapter_too_slow_to_learn_from_gets_one_echo_per_key(
    bus: BusMaster, wire: Wire
) -> None:
    """An adapter that hands the master's bytes back later than the link can tell
    them from a device's (a USB adapter holding received bytes back): the copy
    of a key's echo is the key's bytes, sooner than a keypad resends, and is not
    echoed again; a real resend is."""
    recorder = Recorder()
    bus.attach(keypad(1, recorder))
    with echoing(bus, wire, delay=0.04) as adapter:
        press = ff68.key_press(1, ff68.KEY_CALL)
        wire.send(press)
        until(lambda: recorder.frames == [press])
        time.sleep(0.15)  # copies come every 40 ms or so if each is echoed
        assert bus.link.local_echo is False  # too late to learn from
        assert adapter.frames() == [ff68.encode(press)]  # not one echo per copy
        wire.resend(press)  # it did not hear the echo
        until(lambda: len(adapter.frames()) == 2)
        time.sleep(0.3)
        assert adapter.frames() == [ff68.encode(press)] * 2
        assert recorder.frames == [press]  # one press all along
