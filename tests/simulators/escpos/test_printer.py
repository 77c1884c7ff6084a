"""The simulated printer without a link: status bytes per fault, tickets, dropping, paper roll."""

from __future__ import annotations

import json
import threading

import pytest

from simulators.escpos import FAULTS, SimulatedPrinter, Text
from tests.simulators.escpos.conftest import TICKET_PRINTOUT, ticket_bytes

ALL_STATUS = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"

#: DLE EOT 1, 2, 3, 4 answers per fault (PROTOCOLS.md section 5).
STATUS_BY_FAULT = [
    ("ok", bytes([0x12, 0x12, 0x12, 0x12])),
    ("paper-near", bytes([0x12, 0x12, 0x12, 0x1E])),
    ("paper-out", bytes([0x1A, 0x32, 0x12, 0x7E])),
    ("cover-open", bytes([0x1A, 0x16, 0x12, 0x12])),
    ("cutter-error", bytes([0x1A, 0x52, 0x1A, 0x12])),
]


@pytest.mark.parametrize(("fault", "answers"), STATUS_BY_FAULT, ids=[s[0] for s in STATUS_BY_FAULT])
def test_status_bytes_for_each_fault(fault: str, answers: bytes) -> None:
    printer = SimulatedPrinter()
    printer.set_fault(fault)
    assert printer.receive(ALL_STATUS) == answers
    assert [printer.status(n) for n in (1, 2, 3, 4)] == list(answers)
    for byte in answers:
        assert byte & 0b1001_0011 == 0b0001_0010  # the form 0xx1xx10


def test_faults_add_up_in_the_status() -> None:
    printer = SimulatedPrinter()
    printer.set_fault("paper-out")
    printer.set_fault("cover-open")
    assert printer.receive(ALL_STATUS) == bytes([0x1A, 0x36, 0x12, 0x7E])
    assert printer.faults == {"paper-out", "cover-open"}


@pytest.mark.parametrize("fault", ["off", "unplug"])
def test_a_printer_off_or_unplugged_answers_nothing_and_prints_nothing(fault: str) -> None:
    printer = SimulatedPrinter()
    printer.set_fault(fault)
    assert printer.receive(ticket_bytes() + ALL_STATUS) == b""
    assert printer.last_ticket() is None
    counters = printer.counters
    assert counters["bytes_dropped"] == counters["bytes"] > 0
    assert counters["status_requests"] == 0
    assert printer.faults == {fault}


def test_a_ticket_is_kept_readable() -> None:
    printer = SimulatedPrinter("kiosk-1")
    assert printer.last_ticket() is None
    assert printer.receive(ticket_bytes()) == b""
    ticket = printer.last_ticket()
    assert ticket is not None
    assert ticket.render() == TICKET_PRINTOUT
    assert ticket.lines == ["A001", "社保", "ahead of you: 3"]
    assert ticket.qr == ["https://hall.example/t/A001"]
    assert ticket.images == [(64, 16)]
    assert ticket.cut is True
    assert ticket.items[0] == Text("A001", width=2, height=2, bold=True, align="center")
    assert printer.counters == {
        "bytes": len(ticket_bytes()),
        "bytes_dropped": 0,
        "status_requests": 0,
        "tickets": 1,
        "cuts": 1,
        "unknown": 0,
    }


def test_the_last_ticket_is_the_one_being_printed_once_it_has_something_on_it() -> None:
    printer = SimulatedPrinter()
    printer.receive(ticket_bytes())
    printer.receive(b"\x1bd\x02")  # a feed puts nothing on the paper
    assert printer.last_ticket() == printer.tickets[-1]
    printer.receive(b"B002\n")
    ticket = printer.last_ticket()
    assert ticket is not None and ticket.render() == ["B002"] and ticket.cut is False
    assert len(printer.tickets) == 1


def test_a_cut_of_blank_paper_is_a_cut_but_no_ticket() -> None:
    printer = SimulatedPrinter()
    printer.receive(b"A001\n\x1dV\x00\x1dV\x00")
    counters = printer.counters
    assert (counters["tickets"], counters["cuts"]) == (1, 2)
    assert [t.lines for t in printer.tickets] == [["A001"]]


@pytest.mark.parametrize("fault", ["paper-out", "cover-open", "cutter-error"])
def test_offline_it_drops_printing_but_answers_status(fault: str) -> None:
    printer = SimulatedPrinter()
    printer.set_fault(fault)
    assert printer.online is False
    assert printer.receive(ticket_bytes() + b"\x10\x04\x01") == b"\x1a"
    assert printer.last_ticket() is None
    assert printer.counters["bytes_dropped"] == len(ticket_bytes()) + 3
    assert printer.counters["status_requests"] == 1
    printer.set_fault("ok")
    assert printer.online is True
    printer.receive(ticket_bytes())
    ticket = printer.last_ticket()
    assert ticket is not None and ticket.render() == TICKET_PRINTOUT


def test_paper_near_end_still_prints() -> None:
    printer = SimulatedPrinter()
    printer.set_fault("paper-near")
    printer.receive(ticket_bytes())
    assert printer.counters["tickets"] == 1
    assert printer.paper == "near_end"


def test_ok_clears_every_fault_and_powers_on_with_a_fresh_parser() -> None:
    printer = SimulatedPrinter()
    printer.receive(b"\x1dv0\x00\x01\x00\x05\x00")  # an image header, its data still to come
    for fault in FAULTS[:-1]:
        printer.set_fault(fault)
    assert printer.faults == set(FAULTS) - {"ok", "paper-near"}  # out is past near end
    printer.set_fault("ok")
    assert printer.faults == set()
    assert (printer.paper, printer.powered, printer.plugged) == ("ok", True, True)
    printer.receive(b"A001\n")
    ticket = printer.last_ticket()
    assert ticket is not None and ticket.lines == ["A001"]


def test_an_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="does not support fault 'garble'"):
        SimulatedPrinter().set_fault("garble")


def test_paper_left_runs_down_to_near_end_then_out() -> None:
    printer = SimulatedPrinter(paper_left=12)
    answers = []
    for _ in range(12):
        printer.receive(ticket_bytes())
        answers.append(printer.receive(b"\x10\x04\x04")[0])
    # 11 tickets left: plenty; 10 to 1 left: near end (NEAR_END_TICKETS); none: out.
    assert answers == [0x12] + [0x1E] * 10 + [0x7E]
    assert printer.paper_left == 0
    printer.receive(ticket_bytes())
    assert printer.counters["tickets"] == 12
    printer.set_fault("ok")
    assert (printer.paper, printer.paper_left) == ("ok", 12)


def test_watchers_hear_every_fault_change() -> None:
    printer = SimulatedPrinter()
    heard: list[frozenset[str]] = []

    def watcher() -> None:
        heard.append(printer.faults)

    printer.watch(watcher)
    printer.set_fault("unplug")
    printer.set_fault("ok")
    printer.unwatch(watcher)
    printer.set_fault("off")
    assert heard == [frozenset({"unplug"}), frozenset()]


def test_tickets_from_many_threads_are_all_kept_whole() -> None:
    printer = SimulatedPrinter()

    def print_tickets() -> None:
        for _ in range(20):
            printer.receive(ticket_bytes())

    threads = [threading.Thread(target=print_tickets) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert printer.counters["tickets"] == 80
    assert all(ticket.render() == TICKET_PRINTOUT for ticket in printer.tickets)


def test_snapshot_is_json_safe_and_has_the_last_ticket() -> None:
    printer = SimulatedPrinter("kiosk-1")
    printer.receive(ticket_bytes() + b"\x1b~")
    snapshot = json.loads(json.dumps(printer.snapshot()))
    assert snapshot["kind"] == "printer" and snapshot["paper"] == "ok"
    assert snapshot["ticket"]["printout"] == TICKET_PRINTOUT
    assert snapshot["ticket"]["images"] == [{"width": 64, "height": 16}]
    assert snapshot["counters"]["unknown"] == 1


def test_each_ticket_is_stamped_with_the_time_of_its_cut() -> None:
    times = iter([100.0, 200.0])
    printer = SimulatedPrinter(clock=lambda: next(times))
    printer.receive(ticket_bytes())
    printer.receive(ticket_bytes())
    assert [ticket.cut_at for ticket in printer.tickets] == [100.0, 200.0]
    assert printer.snapshot()["ticket"]["cut_at"] == 200.0


def test_a_fresh_roll_runs_out_after_its_tickets() -> None:
    printer = SimulatedPrinter()
    printer.load_paper(1)
    assert printer.paper == "near_end"
    printer.receive(ticket_bytes())
    assert printer.paper == "out"
    assert printer.receive(b"\x10\x04\x04") == b"\x7e"
    printer.load_paper(None)
    assert printer.paper == "ok"


def test_unplugged_mid_ticket_it_keeps_what_arrived_before() -> None:
    printer = SimulatedPrinter()
    heard: list[bool] = []
    printer.watch(lambda: heard.append(printer.plugged))
    data = ticket_bytes()
    printer.unplug_after(len(data) // 2)
    printer.receive(data)
    assert not printer.plugged and heard == [False]
    assert printer.counters["bytes"] == len(data) // 2
    assert printer.counters["cuts"] == 0, "the ticket never got its cut"
