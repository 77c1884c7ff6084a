"""A kiosk's ticket printer: one thread per printer owns its link, prints the
jobs it is given, and polls the printer's status in between.

Every ticket is checked before it goes (a printer already out of paper gets
no bytes) and after (a network printer swallows bytes while it cannot print,
and paper can run out mid-ticket). No answer to a status request is
`offline`, never "paper ok".
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from devices.bus_device import DeviceContext
from devices.health import DeviceCounters, DeviceHealth, DeviceState, HealthTracker
from devices.printer_config import PrinterConfig
from drivers.escpos import status as escpos_status
from drivers.escpos.bitmap import FontMissing
from drivers.escpos.links import PrinterLink, PrinterLinkError
from drivers.escpos.status import PROBLEMS_ZH, PrinterStatus, Request, StatusError
from drivers.escpos.ticket import TicketLayout, TicketRenderer

log = logging.getLogger(__name__)

REQUESTS = (Request.PRINTER, Request.OFFLINE_CAUSE, Request.ERROR_CAUSE, Request.PAPER)
QUERY = b"".join(escpos_status.request(kind) for kind in REQUESTS)
REOPEN_FIRST, REOPEN_MAX = 1.0, 30.0


class PrintFailed(Exception):
    """A ticket did not print; the message says why, for the hall's event."""


class NoAnswer(Exception):
    """The printer gave no valid status answer: it is offline."""


@dataclass(frozen=True)
class PrintJob:
    code: str
    layout: TicketLayout
    done: Callable[[str | None], None]  # on the loop: None when printed, else the reason


class TicketPrinter:
    kind = "ticket-printer"

    def __init__(
        self,
        config: PrinterConfig,
        link: PrinterLink,
        renderer: TicketRenderer,
        context: DeviceContext,
    ) -> None:
        self.config = config
        self.link = link
        self.renderer = renderer
        self.context = context
        self.tracker = HealthTracker(config.id, self.kind, config.model, link.where, context.clock)
        self.status: PrinterStatus | None = None
        self.counters = DeviceCounters()
        self.printed = 0
        self.failed = 0
        self._jobs: queue.SimpleQueue[PrintJob | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"printer-{config.id}", daemon=True)

    @property
    def id(self) -> str:
        return self.config.id

    def submit(self, job: PrintJob) -> None:
        self._jobs.put(job)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the ticket being printed, then stop."""
        self._stop.set()
        self._jobs.put(None)
        self._thread.join()
        self.link.close()

    def unavailable(self) -> tuple[str, str] | None:
        """Why a ticket cannot be printed now, in Chinese and English, or None if it can."""
        health = self.tracker.health
        if health.state is DeviceState.OFFLINE:
            return "打印机无响应", health.reason or "offline"
        if health.state is DeviceState.FAULT and self.status is not None:
            problems = [p for p in self.status.problems if p in PROBLEMS_ZH]
            return "、".join(PROBLEMS_ZH[p] for p in problems), ", ".join(problems)
        if health.state is DeviceState.FAULT:
            return "打印机故障", health.reason or "fault"
        return None

    def health(self) -> DeviceHealth:
        health = self.tracker.health
        health.counters = self.counters
        status = self.status
        health.details = {
            "kiosk": self.config.kiosk,
            "paper": _paper(status),
            "cover": None if status is None else ("open" if status.cover_open else "closed"),
            "printed": self.printed,
            "failed": self.failed,
        }
        return health

    # -- the printer's thread ------------------------------------------------------

    def _run(self) -> None:
        self._poll()  # know the printer's state before the first ticket
        backoff = REOPEN_FIRST
        while not self._stop.is_set():
            wait = self.config.status_seconds if self.link.is_open else backoff
            try:
                job = self._jobs.get(timeout=wait * random.uniform(0.9, 1.1))
            except queue.Empty:
                job = None
            if job is None:
                if self._stop.is_set():
                    break
                self._poll()
            else:
                self._print(job)
            backoff = REOPEN_FIRST if self.link.is_open else min(backoff * 2, REOPEN_MAX)

    def _poll(self) -> None:
        try:
            self._ensure_open()
            self._query()
        except PrinterLinkError as exc:
            self._offline(str(exc))
        except NoAnswer:
            pass  # reported by _query

    def _print(self, job: PrintJob) -> None:
        try:
            self._print_checked(job)
        except PrinterLinkError as exc:
            self._offline(str(exc))
            failure: str | None = f"offline: {exc}"
        except NoAnswer as exc:
            failure = f"offline: {exc}"
        except (PrintFailed, FontMissing) as exc:
            failure = str(exc)
        else:
            failure = None
        if failure is None:
            self.printed += 1
        else:
            self.failed += 1
            log.warning("printer %s: ticket %s not printed: %s", self.id, job.code, failure)
        self.context.loop.call_soon_threadsafe(job.done, failure)

    def _print_checked(self, job: PrintJob) -> None:
        """Status, ticket, status: raises why the ticket did not print."""
        self._ensure_open()
        before = self._query()
        if not before.can_print:
            raise PrintFailed(", ".join(before.problems))
        try:
            data = self.renderer.render(job.layout)
        except ValueError as exc:  # e.g. a QR payload too long for the code
            raise PrintFailed(f"the ticket cannot be rendered: {exc}") from exc
        self.link.write(data)
        self.counters.frames_out += 1
        after = self._query()
        if not after.can_print:
            raise PrintFailed(f"{', '.join(after.problems)} while printing")

    def _ensure_open(self) -> None:
        if not self.link.is_open:
            self.link.open()
            self.counters.reconnects += 1

    def _query(self) -> PrinterStatus:
        """Ask all four statuses. No answer, or a malformed one, is reported
        offline and raises NoAnswer."""
        self.link.write(QUERY)
        answer = self.link.read(len(REQUESTS), self.config.reply_timeout)
        try:
            if len(answer) < len(REQUESTS):
                cut = f"status answer cut short: {answer.hex(' ')}"
                raise NoAnswer(cut if answer else "no answer to DLE EOT")
            try:
                status = escpos_status.parse(dict(zip(REQUESTS, answer, strict=True)))
            except StatusError as exc:
                raise NoAnswer(str(exc)) from exc
        except NoAnswer as exc:
            self.counters.errors += 1
            self._offline(str(exc))
            raise
        self.counters.frames_in += 1
        self.status = status
        self._report_status(status)
        return status

    def _report_status(self, status: PrinterStatus) -> None:
        """The printer answered: fault if it cannot print, degraded if it
        can with a problem (paper near end), else online."""
        reason = ", ".join(status.problems) or None
        if not status.can_print:
            state = DeviceState.FAULT
        else:
            state = DeviceState.DEGRADED if reason else DeviceState.ONLINE
        self._report(state, reason, seen=True)

    def _offline(self, reason: str) -> None:
        self.status = None
        self._report(DeviceState.OFFLINE, reason)

    def _report(self, state: DeviceState, reason: str | None, seen: bool = False) -> None:
        """Health lives on the loop; the printer's thread hands changes over."""

        def apply() -> None:
            self.tracker.set(state, reason)
            if seen:
                self.tracker.seen()

        self.context.loop.call_soon_threadsafe(apply)


def _paper(status: PrinterStatus | None) -> str | None:
    if status is None:
        return None
    if status.paper_out:
        return "out"
    return "near_end" if status.paper_near_end else "ok"
