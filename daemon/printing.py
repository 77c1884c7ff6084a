"""Kiosk tickets on paper: the spool between the hall and its printers.

A ticket issued at a kiosk is stored with `print_state = queued` in the same
transaction as the ticket, so the job survives a restart; the kiosk's
printer prints it and the result is stored (`ticket.printed`, or
`ticket.print_failed` with the reason, which leaves the ticket valid).
After a restart, queued tickets are printed if they are still fresh: a
ticket that comes out minutes late would be taken by the wrong citizen, so
older ones are marked failed for staff to reprint.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Sequence

from daemon.config.model import HallConfig
from daemon.hall import Hall, StoreUnavailable
from daemon.queue.errors import QueueError
from daemon.queue.model import PrintState, Ticket
from daemon.store.store import EventRecord
from devices.ticket_printer import PrintJob, TicketPrinter
from drivers.escpos.ticket import Line, TicketLayout

log = logging.getLogger(__name__)

SPOOL_MAX_AGE = dt.timedelta(minutes=2)
RESULTS_KEPT = 256


class PrinterUnavailable(QueueError):
    status = 503
    code = "printer_unavailable"

    def __init__(self, kiosk: str, printer: str, reason: tuple[str, str]) -> None:
        zh, en = reason
        super().__init__(
            f"取号机 {kiosk} 的打印机暂时无法打印（{zh}），未取号，请联系工作人员",
            f"the printer of kiosk {kiosk} ({printer}) cannot print ({en}); no ticket was issued",
        )


def ticket_layout(config: HallConfig, ticket: Ticket) -> TicketLayout:
    """What `ticket` says on paper, in the ticket's languages, from the config."""
    template = config.ticket
    languages = template.languages or config.hall.languages
    service = config.services_by_id[ticket.service]

    def lines(texts: dict[str, str], **values: object) -> list[Line]:
        return [Line(lang, texts[lang].format(**values)) for lang in languages if lang in texts]

    qr = None
    if template.qr_url is not None:
        qr = template.qr_url.format(
            ticket=ticket.code, day=ticket.day.isoformat(), hall=config.hall.id
        )
    return TicketLayout(
        title=lines(config.hall.names),
        service=lines(service.names),
        number=ticket.code,
        waiting=lines(template.waiting, ahead=ticket.waiting_ahead),
        issued=ticket.issued_at.strftime("%Y-%m-%d %H:%M"),
        footer=lines(template.footer),
        qr=qr,
    )


class Spooler:
    def __init__(self, hall: Hall, printers: Sequence[TicketPrinter]) -> None:
        self.hall = hall
        self.by_kiosk = {printer.config.kiosk: printer for printer in printers}
        self._printing: dict[str, TicketPrinter] = {}  # ticket -> printer, until its result
        self._waiting: dict[str, list[asyncio.Future[PrintState]]] = {}
        self._results: OrderedDict[str, PrintState] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Follow the hall, and print what was spooled before a restart."""
        self.hall.subscribe(self.on_events)
        now = self.hall.now()
        for ticket in self.hall.committed.tickets.values():
            if ticket.print_state is not PrintState.QUEUED:
                continue
            if now - ticket.issued_at <= SPOOL_MAX_AGE:
                self._submit(ticket.code)
            else:
                minutes = int(SPOOL_MAX_AGE.total_seconds() // 60)
                reason = f"still spooled after a restart, over {minutes} minutes old: reprint it"
                self._record(ticket.code, self._printer_id(ticket), reason)

    def use(self, printers: Sequence[TicketPrinter]) -> None:
        """Print on `printers` from now on (a reloaded config). Tickets given
        to a printer that is no longer among them, and stopped without
        printing them, go to their kiosk's printer now."""
        self.by_kiosk = {printer.config.kiosk: printer for printer in printers}
        for code, printer in list(self._printing.items()):
            if all(printer is not kept for kept in printers):
                del self._printing[code]
                self._submit(code)

    async def drain(self) -> None:
        """Wait until the print results already in are stored (at shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def check(self, kiosk: str) -> None:
        """Refuse a ticket the kiosk's printer cannot print now (503)."""
        printer = self.by_kiosk.get(kiosk)
        if printer is None:
            return  # an unknown kiosk is refused by the hall
        reason = printer.unavailable()
        if reason is not None:
            raise PrinterUnavailable(kiosk, printer.id, reason)

    async def wait(self, code: str, timeout: float) -> PrintState:
        """The ticket's print result once stored; `queued` if not within `timeout`."""
        if code in self._results:
            return self._results[code]
        future: asyncio.Future[PrintState] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(code, []).append(future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return PrintState.QUEUED
        finally:
            waiters = self._waiting.get(code, [])
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._waiting.pop(code, None)

    def on_events(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            if event.type in ("ticket.issued", "ticket.reprint") and event.document.get("kiosk"):
                ticket = self.hall.committed.tickets.get(event.document["ticket"])
                if ticket is not None and ticket.print_state is PrintState.QUEUED:
                    self._submit(ticket.code)

    def _printer_id(self, ticket: Ticket) -> str:
        printer = self.by_kiosk.get(ticket.kiosk or "")
        return printer.id if printer else "-"

    def _submit(self, code: str) -> None:
        ticket = self.hall.committed.tickets[code]
        printer = self.by_kiosk.get(ticket.kiosk or "")
        if printer is None:
            self._record(code, "-", f"kiosk {ticket.kiosk} has no printer")
            return
        self._results.pop(code, None)
        layout = ticket_layout(self.hall.config, ticket)
        self._printing[code] = printer
        printer.submit(
            PrintJob(code, layout, lambda failure: self._printed(code, printer, failure))
        )

    def _printed(self, code: str, printer: TicketPrinter, failure: str | None) -> None:
        if self._printing.get(code) is printer:
            del self._printing[code]
        self._record(code, printer.id, failure)

    def _record(self, code: str, printer: str, failure: str | None) -> None:
        task = asyncio.get_running_loop().create_task(self._store(code, printer, failure))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(self, code: str, printer: str, failure: str | None) -> None:
        try:
            ticket = await self.hall.perform(self.hall.engine.print_done, code, printer, failure)
        except (QueueError, StoreUnavailable) as exc:
            log.error("ticket %s: the print result could not be stored: %s", code, exc)
            return
        state = ticket.print_state or PrintState.FAILED
        self._results[code] = state
        while len(self._results) > RESULTS_KEPT:
            self._results.popitem(last=False)
        for future in self._waiting.pop(code, []):
            if not future.done():
                future.set_result(state)
