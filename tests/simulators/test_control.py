"""The simulator control endpoint end to end: verbs over ZeroMQ, errors, `hallkeeper sim`,
printers and fingerprint readers."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial
import zmq
from escpos.printer import Usb

from drivers.codec import FrameError
from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from drivers.r30x import codec as r30x
from simulators.control import (
    DEFAULT_ENDPOINT,
    ENV_ENDPOINT,
    ControlServer,
    NoAnswer,
    check_loopback,
    default_endpoint,
    request,
    sim_command,
)
from simulators.hall import DeviceSpec, LinkSpec, PrinterSpec, ReaderSpec, SimulatedHall
from simulators.ports import free_port
from simulators.registry import SimRegistry
from simulators.rs485 import KeypadSim, PadSim, ScreenSim, SimulatedBus
from tests.simulators.escpos.conftest import PROFILE, TICKET_PRINTOUT, print_ticket
from tests.simulators.r30x.conftest import Host as ReaderHost
from tests.simulators.rs485.conftest import Host, wait_for


@dataclass
class Hall:
    endpoint: str
    bus: SimulatedBus
    keypad: KeypadSim
    pad: PadSim
    screen: ScreenSim
    host: Host


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    """One bus with a keypad, a four-key pad and a window screen, a registry, a server
    on a free loopback port, and the host's port open on the bus."""
    bus = SimulatedBus("bus-1", tmp_path / "bus-1.tty")
    keypad = bus.add(KeypadSim("kp-1", 1, resend_after=1.0))
    pad = bus.add(PadSim("pad-1", 5, resend_after=1.0))
    screen = bus.add(ScreenSim("scr-1", 3))
    registry = SimRegistry()
    registry.add_bus(bus)
    server = ControlServer(registry, "tcp://127.0.0.1:*")
    bus.start()
    server.start()
    host = Host(bus.path)
    try:
        yield Hall(server.endpoint, bus, keypad, pad, screen, host)
    finally:
        host.close()
        server.stop()
        bus.stop()


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = sim_command(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# --- verbs ----------------------------------------------------------------------------


def test_list_names_every_device_and_bus(hall: Hall) -> None:
    answer = request(hall.endpoint, "list")
    assert answer["ok"] is True
    devices = {d["id"]: d for d in answer["devices"]}
    assert devices["kp-1"] == {
        "id": "kp-1",
        "kind": "keypad",
        "model": "ff68-keypad",
        "bus": "bus-1",
        "link": str(hall.bus.path),
        "address": 1,
        "faults": [],
    }
    assert (devices["pad-1"]["model"], devices["pad-1"]["address"]) == ("ff68-pad", 5)
    assert (devices["scr-1"]["model"], devices["scr-1"]["kind"]) == ("imm-window-screen", "screen")
    [bus] = answer["buses"]
    assert bus["id"] == "bus-1" and bus["plugged"] is True
    assert bus["devices"] == ["kp-1", "pad-1", "scr-1"]


def test_press_puts_the_key_on_the_wire(hall: Hall) -> None:
    before = time.monotonic()
    answer = request(hall.endpoint, "press", keypad="kp-1", key="transfer", digits="12")
    pressed_at = answer.pop("at")
    assert answer == {
        "ok": True,
        "device": "kp-1",
        "key": "transfer",
        "digits": [1, 2],
        "sent": True,
    }
    [frame] = hall.host.expect_frames(1)
    assert frame == ff68.key_press(1, ff68.KEY_TRANSFER, (1, 2))
    # the moment of the press, on the clock the bus stamps frames with
    assert before <= pressed_at <= hall.keypad.snapshot()["last_sent_at"]


def test_rate_puts_the_pad_key_on_the_wire(hall: Hall) -> None:
    before = time.monotonic()
    answer = request(hall.endpoint, "rate", pad="pad-1", level=2)
    assert answer["ok"] and answer["meaning"] == "满意"
    assert before <= answer["at"] <= time.monotonic()
    [frame] = hall.host.expect_frames(1)
    assert frame == ff68.pad_key(5, 1)


def test_show_reports_what_a_device_shows(hall: Hall) -> None:
    hall.host.write(ff68.show(1, 4, 23))
    hall.host.write(imm.ScreenText(3, imm.Selector.WINDOW, "请A023号"))
    assert wait_for(lambda: hall.screen.text == "请A023号")
    keypad = request(hall.endpoint, "show", target="kp-1")["state"]
    assert (keypad["waiting"], keypad["number"]) == (4, 23)
    screen = request(hall.endpoint, "show", device="scr-1")["state"]
    assert screen["text"] == "请A023号"
    bus = request(hall.endpoint, "show", target="bus-1")["state"]
    assert bus["plugged"] is True and bus["counters"]["host_bytes"] > 0


def test_fault_sets_and_clears_device_faults(hall: Hall) -> None:
    answer = request(hall.endpoint, "fault", target="kp-1", kind="garble")
    assert answer == {"ok": True, "target": "kp-1", "kind": "garble", "faults": ["garble"]}
    assert hall.keypad.faults == {"garble"}
    listed = {d["id"]: d for d in request(hall.endpoint, "list")["devices"]}
    assert listed["kp-1"]["faults"] == ["garble"]
    assert request(hall.endpoint, "fault", target="kp-1", kind="ok")["faults"] == []
    request(hall.endpoint, "fault", target="scr-1", kind="silent")
    assert hall.screen.faults == {"silent"}


def test_fault_unplugs_and_replugs_a_bus(hall: Hall) -> None:
    answer = request(hall.endpoint, "fault", target="bus-1", kind="unplug")
    assert answer["ok"] and answer["plugged"] is False and answer["faults"] == ["unplug"]
    with pytest.raises(serial.SerialException):
        hall.host.port.read(1)
    answer = request(hall.endpoint, "fault", target="bus-1", kind="ok")
    assert answer["ok"] and answer["plugged"] is True
    host = Host(hall.bus.path)
    try:
        request(hall.endpoint, "press", keypad="kp-1", key="call")
        assert host.expect_frames(1) == [ff68.key_press(1, ff68.KEY_CALL)]
    finally:
        host.close()


def test_fault_swaps_in_a_bus_adapter_that_echoes_what_the_host_sends(hall: Hall) -> None:
    answer = request(hall.endpoint, "fault", target="bus-1", kind="echo")
    assert answer["ok"] and answer["plugged"] is True and answer["faults"] == ["echo"]
    with pytest.raises(serial.SerialException):  # a swap: the old port is gone
        hall.host.port.read(1)
    picture = imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A007号"))
    host = Host(hall.bus.path)
    try:
        host.write(picture)
        assert host.read_until(lambda: picture in host.raw)  # the host hears it back
        assert wait_for(lambda: hall.screen.text == "请A007号")  # and the screen got it
    finally:
        host.close()
    assert request(hall.endpoint, "fault", target="bus-1", kind="ok")["faults"] == []
    host = Host(hall.bus.path)
    try:
        host.write(picture)
        assert not host.read_until(lambda: host.raw, timeout=0.3)
    finally:
        host.close()


def test_a_silent_keypad_press_is_answered_with_a_note(hall: Hall) -> None:
    request(hall.endpoint, "fault", target="kp-1", kind="silent")
    answer = request(hall.endpoint, "press", keypad="kp-1", key="call")
    assert answer["ok"] and answer["sent"] is False and "silent" in answer["note"]


@pytest.mark.parametrize(
    ("verb", "args", "error"),
    [
        ("press", {"keypad": "kp-9", "key": "call"}, "no simulated device or bus 'kp-9'"),
        ("press", {"keypad": "pad-1", "key": "call"}, "'pad-1' is a pad, not a keypad"),
        ("press", {"keypad": "kp-1", "key": "dance"}, "unknown keypad key 'dance'"),
        ("press", {"keypad": "kp-1", "key": "call", "digits": "1x"}, "decimal digits"),
        ("press", {"key": "call"}, "press needs 'keypad'"),
        ("rate", {"pad": "pad-1", "level": 6}, "level must be a whole number 1-5"),
        ("rate", {"pad": "pad-1", "level": "high"}, "level must be a whole number 1-5"),
        ("rate", {"pad": "pad-1", "level": 5}, "4-key pad has no key for level 5"),
        ("rate", {"pad": "kp-1", "level": 1}, "'kp-1' is a keypad, not a pad"),
        ("show", {"target": "nothing"}, "no simulated device or bus 'nothing'"),
        ("fault", {"target": "scr-1", "kind": "split"}, "does not support fault 'split'"),
        ("fault", {"target": "kp-1", "kind": "paper-out"}, "does not support fault 'paper-out'"),
        ("fault", {"target": "kp-1", "kind": "unplug"}, "unplug is a bus fault"),
        ("fault", {"target": "bus-1", "kind": "garble"}, "supported: unplug, echo, ok"),
        ("fault", {"target": "kp-1"}, "fault needs 'kind'"),
        ("dance", {}, "unknown verb 'dance'"),
    ],
)
def test_errors_come_back_as_answers(
    hall: Hall, verb: str, args: dict[str, object], error: str
) -> None:
    answer = request(hall.endpoint, verb, **args)
    assert answer["ok"] is False
    assert error in answer["error"]
    # The simulators carry on.
    assert request(hall.endpoint, "list")["ok"] is True


def test_a_request_that_is_not_json_is_an_error_answer(hall: Hall) -> None:
    context = zmq.Context()
    try:
        client = context.socket(zmq.REQ)
        client.setsockopt(zmq.LINGER, 0)
        client.connect(hall.endpoint)
        client.send(b"\xff not json")
        assert client.poll(3000)
        answer = json.loads(client.recv())
        client.send(b"[1, 2]")
        assert client.poll(3000)
        not_an_object = json.loads(client.recv())
    finally:
        context.destroy(linger=0)
    assert answer == {"ok": False, "error": "the request is not JSON"}
    assert not_an_object["ok"] is False and "JSON object" in not_an_object["error"]


def test_nobody_answering_raises_no_answer_naming_the_endpoint() -> None:
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(NoAnswer, match=endpoint):
        request(endpoint, "list", timeout=0.2)


# --- loopback only --------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    ["tcp://0.0.0.0:5558", "tcp://192.168.1.20:5558", "tcp://*:5558", "tcp://eth0:5558", "udp://x"],
)
def test_the_server_refuses_endpoints_off_loopback(endpoint: str) -> None:
    with pytest.raises(ValueError):
        ControlServer(SimRegistry(), endpoint)


@pytest.mark.parametrize(
    "endpoint",
    ["tcp://127.0.0.1:5558", "tcp://127.0.0.2:1", "tcp://localhost:*", "tcp://[::1]:5558"],
)
def test_loopback_endpoints_are_accepted(endpoint: str) -> None:
    check_loopback(endpoint)


def test_the_default_endpoint_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_ENDPOINT, raising=False)
    assert default_endpoint() == DEFAULT_ENDPOINT == "tcp://127.0.0.1:5558"
    monkeypatch.setenv(ENV_ENDPOINT, "tcp://127.0.0.1:6000")
    assert default_endpoint() == "tcp://127.0.0.1:6000"


# --- hallkeeper sim -------------------------------------------------------------------


def test_sim_list_prints_a_table(hall: Hall) -> None:
    code, out, err = run("--control", hall.endpoint, "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["DEVICE", "KIND", "MODEL", "BUS", "ADDRESS", "FAULTS"]
    assert lines[1].split() == ["kp-1", "keypad", "ff68-keypad", "bus-1", "1", "-"]
    assert [str(hall.bus.path), "yes", "3", "-"] in [line.split()[1:] for line in lines]


def test_sim_json_prints_the_answer(hall: Hall) -> None:
    code, out, _ = run("list", "--json", "--control", hall.endpoint)
    assert code == 0
    assert {d["id"] for d in json.loads(out)["devices"]} == {"kp-1", "pad-1", "scr-1"}


def test_sim_press_rate_show_and_fault(hall: Hall) -> None:
    code, out, _ = run("--control", hall.endpoint, "press", "kp-1", "transfer", "--digits", "12")
    assert (code, out.strip()) == (0, "kp-1: pressed transfer 12")
    assert hall.host.expect_frames(1) == [ff68.key_press(1, ff68.KEY_TRANSFER, (1, 2))]

    code, out, _ = run("--control", hall.endpoint, "rate", "pad-1", "1")
    assert (code, out.strip()) == (0, "pad-1: rated 1 (非常满意)")
    # Wait for the pad's frame: written while it is on the wire, the screen's would collide.
    assert hall.host.expect_frames(2)[1] == ff68.pad_key(5, 0)

    hall.host.write(imm.ScreenText(3, imm.Selector.WINDOW, "请A007号"))
    assert wait_for(lambda: hall.screen.text == "请A007号")
    code, out, _ = run("--control", hall.endpoint, "show", "scr-1")
    assert code == 0 and "text: 请A007号" in out.splitlines()

    code, out, _ = run("--control", hall.endpoint, "fault", "bus-1", "unplug")
    assert (code, out.strip()) == (0, "bus-1: unplugged")
    code, out, _ = run("--control", hall.endpoint, "fault", "bus-1", "ok")
    assert (code, out.strip()) == (0, "bus-1: plugged in")
    code, out, _ = run("--control", hall.endpoint, "fault", "bus-1", "echo")
    assert (code, out.strip()) == (0, "bus-1: plugged in, echoing what the host sends")
    code, out, _ = run("--control", hall.endpoint, "fault", "kp-1", "split")
    assert (code, out.strip()) == (0, "kp-1: faults split")


def test_sim_error_answers_exit_non_zero(hall: Hall) -> None:
    code, out, err = run("--control", hall.endpoint, "rate", "pad-1", "5")
    assert code == 1 and out == ""
    assert "4-key pad has no key for level 5" in err
    code, out, _ = run("--control", hall.endpoint, "--json", "show", "ghost")
    assert code == 1 and "ghost" in json.loads(out)["error"]


def test_sim_uses_the_environment_endpoint(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_ENDPOINT, hall.endpoint)
    code, _, _ = run("show", "kp-1")
    assert code == 0


def test_sim_without_a_simulator_says_which_endpoint_it_tried() -> None:
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    code, out, err = run("--control", endpoint, "--timeout", "0.2", "list")
    assert code == 3 and out == ""
    assert endpoint in err and "no simulator answered" in err
    code, out, _ = run("--control", endpoint, "--timeout", "0.2", "--json", "list")
    assert code == 3 and json.loads(out)["endpoint"] == endpoint


def test_sim_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("press", "kp-1")[0] == 2
    assert run("press", "kp-1", "dance")[0] == 2
    assert run()[0] == 2
    capsys.readouterr()


def test_hallkeeper_sim_passes_its_options_through(
    hall: Hall, capsys: pytest.CaptureFixture[str]
) -> None:
    from daemon.cli import main

    assert main(["sim", "--control", hall.endpoint, "--json", "list"]) == 0
    assert {d["id"] for d in json.loads(capsys.readouterr().out)["devices"]} >= {"kp-1"}
    assert main(["sim", "--help"]) == 0
    assert "fault" in capsys.readouterr().out


# --- printers -------------------------------------------------------------------------


@dataclass
class PrinterHall:
    endpoint: str
    sim: SimulatedHall


@pytest.fixture
def printer_hall(tmp_path: Path) -> Iterator[PrinterHall]:
    """A hall with a USB, a TCP and a serial printer and a control endpoint."""
    sim = SimulatedHall(
        [],
        tmp_path / "sim",
        "tcp://127.0.0.1:*",
        printers=[
            PrinterSpec("kiosk-1", "usb"),
            PrinterSpec("kiosk-2", "tcp"),
            PrinterSpec("kiosk-3", "serial"),
        ],
    )
    sim.start()
    assert sim.control is not None
    try:
        yield PrinterHall(sim.control.endpoint, sim)
    finally:
        sim.stop()


def usb_printer(hall: PrinterHall) -> Usb:
    return Usb(0x0416, 0x5011, usb_args={"backend": hall.sim.usb_backend}, profile=PROFILE)


def test_sim_list_shows_printers_with_their_links(printer_hall: PrinterHall) -> None:
    urls = printer_hall.sim.printer_urls
    answer = request(printer_hall.endpoint, "list")
    printers = {d["id"]: d for d in answer["devices"]}
    assert printers["kiosk-1"] == {
        "id": "kiosk-1",
        "kind": "printer",
        "model": "escpos",
        "link": "usb",
        "where": "0416:5011",
        "paper": "ok",
        "faults": [],
    }
    assert (printers["kiosk-2"]["link"], printers["kiosk-2"]["where"]) == ("tcp", urls["kiosk-2"])
    assert (printers["kiosk-3"]["link"], printers["kiosk-3"]["where"]) == (
        "serial",
        urls["kiosk-3"],
    )

    code, out, _ = run("--control", printer_hall.endpoint, "list")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert ["PRINTER", "MODEL", "LINK", "WHERE", "PAPER", "FAULTS"] in rows
    assert ["kiosk-1", "escpos", "usb", "0416:5011", "ok", "-"] in rows
    assert ["kiosk-2", "escpos", "tcp", urls["kiosk-2"], "ok", "-"] in rows


def test_sim_show_prints_the_last_ticket(printer_hall: PrinterHall) -> None:
    code, out, _ = run("--control", printer_hall.endpoint, "show", "kiosk-1")
    assert code == 0 and "no ticket printed yet" in out
    escpos = usb_printer(printer_hall)
    try:
        print_ticket(escpos)
    finally:
        escpos.close()
    code, out, _ = run("--control", printer_hall.endpoint, "show", "kiosk-1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "kiosk-1: escpos printer on usb 0416:5011"
    assert lines[1] == "paper ok, cover closed, cutter ok, faults none"
    assert lines[lines.index("last ticket:") + 1 :] == ["  " + line for line in TICKET_PRINTOUT]

    code, out, _ = run("--control", printer_hall.endpoint, "--json", "show", "kiosk-1")
    ticket = json.loads(out)["state"]["ticket"]
    assert ticket["lines"] == ["A001", "社保", "ahead of you: 3"]
    assert ticket["qr"] == ["https://hall.example/t/A001"]
    assert ticket["images"] == [{"width": 64, "height": 16}]
    assert ticket["cut"] is True


def test_sim_fault_on_a_printer_changes_what_it_answers(printer_hall: PrinterHall) -> None:
    escpos = usb_printer(printer_hall)
    try:
        code, out, _ = run("--control", printer_hall.endpoint, "fault", "kiosk-1", "paper-out")
        assert (code, out.strip()) == (0, "kiosk-1: faults paper-out")
        assert bytes(escpos.query_status(b"\x10\x04\x04")) == b"\x7e"
        code, out, _ = run("--control", printer_hall.endpoint, "fault", "kiosk-1", "ok")
        assert (code, out.strip()) == (0, "kiosk-1: faults none")
        assert bytes(escpos.query_status(b"\x10\x04\x04")) == b"\x12"
    finally:
        escpos.close()
    answer = request(printer_hall.endpoint, "fault", target="kiosk-3", kind="unplug")
    assert answer == {"ok": True, "target": "kiosk-3", "kind": "unplug", "faults": ["unplug"]}
    assert wait_for(lambda: not Path(printer_hall.sim.printer_urls["kiosk-3"]).exists())


@pytest.mark.parametrize(
    ("verb", "args", "error"),
    [
        ("fault", {"target": "kiosk-1", "kind": "garble"}, "supported: paper-near, paper-out"),
        ("press", {"keypad": "kiosk-1", "key": "call"}, "'kiosk-1' is a printer, not a keypad"),
        ("show", {"target": "kiosk-9"}, "kiosk-1, kiosk-2, kiosk-3"),
    ],
)
def test_printer_errors_come_back_as_answers(
    printer_hall: PrinterHall, verb: str, args: dict[str, object], error: str
) -> None:
    answer = request(printer_hall.endpoint, verb, **args)
    assert answer["ok"] is False and error in answer["error"]


def test_sim_fault_help_names_the_printer_faults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # no line breaks inside the list
    assert run("fault", "--help")[0] == 0
    help_text = capsys.readouterr().out
    assert "printer: paper-near, paper-out, cover-open, cutter-error, unplug, off, ok" in help_text


# --- fingerprint readers ----------------------------------------------------------------


@dataclass
class ReaderHall:
    endpoint: str
    sim: SimulatedHall


@pytest.fixture
def reader_hall(tmp_path: Path) -> Iterator[ReaderHall]:
    """A hall with a keypad and two fingerprint readers, s1's finger enrolled on page 3 of
    fp-1, and a control endpoint."""
    sim = SimulatedHall(
        [LinkSpec("bus-1", 9600, (DeviceSpec("kp-1", "ff68-keypad", 1),))],
        tmp_path / "sim",
        "tcp://127.0.0.1:*",
        readers=[ReaderSpec("fp-1"), ReaderSpec("fp-2", address=7, capacity=50)],
    )
    sim.reader("fp-1").enroll(3, "s1")
    sim.start()
    assert sim.control is not None
    try:
        yield ReaderHall(sim.control.endpoint, sim)
    finally:
        sim.stop()


@pytest.fixture
def fp_1(reader_hall: ReaderHall) -> Iterator[ReaderHost]:
    """The daemon's end of fp-1's serial line."""
    host = ReaderHost(reader_hall.sim.reader_urls["fp-1"])
    try:
        yield host
    finally:
        host.close()


def test_sim_list_shows_readers_with_their_paths_and_templates(reader_hall: ReaderHall) -> None:
    urls = reader_hall.sim.reader_urls
    readers = {d["id"]: d for d in request(reader_hall.endpoint, "list")["devices"]}
    assert readers["fp-1"] == {
        "id": "fp-1",
        "kind": "fingerprint-reader",
        "model": "r30x",
        "address": 0xFFFFFFFF,
        "templates": 1,
        "faults": [],
        "link": "serial",
        "path": urls["fp-1"],
    }
    assert (readers["fp-2"]["address"], readers["fp-2"]["templates"]) == (7, 0)

    code, out, _ = run("--control", reader_hall.endpoint, "list")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert ["READER", "MODEL", "PATH", "ADDRESS", "TEMPLATES", "FAULTS"] in rows
    assert ["fp-1", "r30x", urls["fp-1"], "ffffffff", "1", "-"] in rows
    assert ["fp-2", "r30x", urls["fp-2"], "00000007", "0", "-"] in rows
    # Readers have a table of their own, not rows among the bus devices.
    assert not any(row[:2] == ["fp-1", "fingerprint-reader"] for row in rows)


def test_sim_finger_puts_a_finger_the_host_identifies(
    reader_hall: ReaderHall, fp_1: ReaderHost
) -> None:
    code, out, _ = run("--control", reader_hall.endpoint, "finger", "fp-1", "s1")
    assert (code, out.strip()) == (0, "fp-1: the finger of s1 is on the sensor (for up to 5 s)")
    hit = fp_1.identify(200)
    assert isinstance(hit, r30x.SearchHit) and hit.page == 3
    # Identified once: the finger is gone from the sensor.
    assert fp_1.ask(r30x.gen_img()).code == r30x.Result.NO_FINGER

    code, out, _ = run("--control", reader_hall.endpoint, "finger", "fp-1", "unknown")
    assert (code, out.strip()) == (0, "fp-1: an unknown finger is on the sensor (for up to 5 s)")
    assert fp_1.identify(200) == r30x.Result.NOT_FOUND

    answer = request(reader_hall.endpoint, "finger", reader="fp-1", staff="poor")
    assert answer == {"ok": True, "reader": "fp-1", "finger": "poor", "seconds": 5.0}
    assert fp_1.identify(200) == r30x.Result.TOO_FEW_FEATURES


def test_sim_finger_takes_any_identity(reader_hall: ReaderHall) -> None:
    answer = request(reader_hall.endpoint, "finger", reader="fp-2", staff="王芳")
    assert answer["ok"] is True
    assert reader_hall.sim.reader("fp-2").snapshot()["finger"]["print"] == "王芳"


def test_sim_show_prints_the_library_and_the_finger(reader_hall: ReaderHall) -> None:
    path = reader_hall.sim.reader_urls["fp-1"]
    code, out, _ = run("--control", reader_hall.endpoint, "show", "fp-1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"fp-1: r30x fingerprint reader on serial {path}, address ffffffff"
    assert lines[1] == "no finger on the sensor, faults none"
    assert lines[-2:] == ["library: 1 of 200 pages", "  page 3: s1"]

    request(reader_hall.endpoint, "finger", reader="fp-1", staff="s2")
    request(reader_hall.endpoint, "fault", target="fp-1", kind="garble")
    code, out, _ = run("--control", reader_hall.endpoint, "show", "fp-1")
    second = out.splitlines()[1]
    assert second.startswith("finger s2 on the sensor (") and second.endswith("faults garble")

    code, out, _ = run("--control", reader_hall.endpoint, "--json", "show", "fp-1")
    state = json.loads(out)["state"]
    assert state["library"] == {"3": "s1"}
    assert state["finger"]["print"] == "s2"
    assert state["path"] == path


def test_sim_fault_on_a_reader_changes_what_the_host_gets(
    reader_hall: ReaderHall, fp_1: ReaderHost
) -> None:
    code, out, _ = run("--control", reader_hall.endpoint, "fault", "fp-1", "garble")
    assert (code, out.strip()) == (0, "fp-1: faults garble")
    answer = fp_1.exchange(r30x.gen_img())
    assert isinstance(answer, FrameError) and answer.reason.startswith("SUM")

    answer = request(reader_hall.endpoint, "fault", target="fp-1", kind="silent")
    assert answer == {
        "ok": True,
        "target": "fp-1",
        "kind": "silent",
        "faults": ["garble", "silent"],
    }
    assert fp_1.exchange(r30x.gen_img(), deadline=0.3) is None

    code, out, _ = run("--control", reader_hall.endpoint, "fault", "fp-1", "ok")
    assert (code, out.strip()) == (0, "fp-1: faults none")
    assert fp_1.ask(r30x.gen_img()).code == r30x.Result.NO_FINGER


@pytest.mark.parametrize(
    ("verb", "args", "error"),
    [
        ("finger", {"reader": "kp-1", "staff": "s1"}, "'kp-1' is a keypad, not a fingerprint"),
        ("finger", {"reader": "fp-9", "staff": "s1"}, "no simulated device or bus 'fp-9'"),
        ("finger", {"reader": "fp-1"}, "finger needs 'staff'"),
        ("finger", {"staff": "s1"}, "finger needs 'reader'"),
        ("fault", {"target": "fp-1", "kind": "unplug"}, "supported: silent, garble, ok"),
        ("press", {"keypad": "fp-1", "key": "call"}, "'fp-1' is a fingerprint-reader, not a"),
        ("show", {"target": "nobody"}, "fp-1, fp-2"),
    ],
)
def test_reader_errors_come_back_as_answers(
    reader_hall: ReaderHall, verb: str, args: dict[str, object], error: str
) -> None:
    answer = request(reader_hall.endpoint, verb, **args)
    assert answer["ok"] is False and error in answer["error"]


def test_sim_finger_usage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert run("finger", "fp-1")[0] == 2
    assert run("finger", "--help")[0] == 0
    assert "STAFF|unknown|poor" in capsys.readouterr().out
    assert run("fault", "--help")[0] == 0
    assert "reader: silent, garble, ok" in capsys.readouterr().out


def test_terminals_are_listed_punched_and_rebooted() -> None:
    from simulators.registry import SimRegistry
    from simulators.zk import SimulatedTerminal, TerminalLink, User

    registry = SimRegistry()
    link = registry.add_terminal(
        TerminalLink(SimulatedTerminal("zk-1", users=[User(1, "101", "A")]))
    )
    listed = registry.handle({"verb": "list"})
    assert [d["id"] for d in listed["devices"]] == ["zk-1"]

    punched = registry.handle({"verb": "finger", "reader": "zk-1", "staff": "101"})
    assert punched == {"ok": True, "terminal": "zk-1", "user": "101"}
    assert [record.user_id for record in link.terminal.log] == ["101"]
    assert not registry.handle({"verb": "finger", "reader": "zk-1", "staff": "999"})["ok"]

    rebooted = registry.handle({"verb": "fault", "target": "zk-1", "kind": "reboot"})
    assert rebooted["ok"] and "reboot" in rebooted["faults"]
    shown = registry.handle({"verb": "show", "target": "zk-1"})
    assert shown["ok"] and shown["target"] == "zk-1"
