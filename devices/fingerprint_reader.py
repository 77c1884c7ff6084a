"""An R30x fingerprint module: one thread owns its serial line and runs the
identify loop (GenImg until a finger, Img2Tz, Search), with enrolment and
template commands run between two identify cycles.

Every command has a deadline: a module that does not answer is offline after
`MISSES_TO_OFFLINE` commands in a row, never an endless wait, and the decoder
resyncs on the next `ef 01`. After a finger is identified the loop waits for
it to be lifted, so one touch is one punch.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from devices.attendance_config import ReaderConfig
from devices.bus_device import DeviceContext
from devices.events import DeviceEvent, FingerIdentified, FingerUnknown
from devices.health import DeviceCounters, DeviceHealth, DeviceState, HealthTracker
from drivers.codec import FrameError
from drivers.links.serial_link import LinkError, SerialLink
from drivers.r30x import codec as r30x
from drivers.r30x.codec import Result

log = logging.getLogger(__name__)

MISSES_TO_OFFLINE = 3
LIFT_TIMEOUT = 5.0  # seconds to wait for an identified finger to be lifted
CAPTURE_TIMEOUT = 15.0  # seconds an enrolment waits for each touch
REOPEN_FIRST, REOPEN_MAX = 1.0, 30.0
POOR = (Result.IMAGE_MESSY, Result.TOO_FEW_FEATURES, Result.IMAGE_FAILED)


class NoAnswer(Exception):
    """The module did not answer in time, or answered garbage."""


class EnrolFailed(Exception):
    """Enrolment did not complete; the message says why, for the admin."""


class FingerprintReader:
    kind = "fingerprint-reader"

    def __init__(self, config: ReaderConfig, link: SerialLink, context: DeviceContext) -> None:
        self.config = config
        self.link = link
        self.context = context
        self.tracker = HealthTracker(
            config.id, self.kind, config.model, config.serial.device, context.clock
        )
        self.counters = DeviceCounters()
        self.seen = {"identified": 0, "unknown": 0, "poor": 0}
        self.templates: int | None = None
        self._decoder = r30x.Decoder()
        self._misses = 0
        self._jobs: queue.SimpleQueue[tuple[Callable[[], object], Future[object]] | None] = (
            queue.SimpleQueue()
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"reader-{config.id}", daemon=True)

    @property
    def id(self) -> str:
        return self.config.id

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        self._thread.join()
        self.link.dispose()

    # -- commands, from the loop ---------------------------------------------------

    def enroll(self, page: int) -> Future[object]:
        """Take two touches of one finger and store the template at `page`."""
        return self._submit(lambda: self._enroll(page))

    def delete(self, page: int) -> Future[object]:
        return self._submit(lambda: self._expect_ok(r30x.delete(page, 1, self._address)))

    def _submit(self, job: Callable[[], object]) -> Future[object]:
        future: Future[object] = Future()
        self._jobs.put((job, future))
        return future

    def health(self) -> DeviceHealth:
        health = self.tracker.health
        health.counters = self.counters
        health.details = {
            "window": self.config.window,
            "templates": self.templates,
            **self.seen,
        }
        return health

    # -- the reader's thread -------------------------------------------------------

    @property
    def _address(self) -> int:
        return self.config.address

    def _run(self) -> None:
        backoff = REOPEN_FIRST
        while not self._stop.is_set():
            try:
                if not self.link.is_open:
                    self._open()
                    backoff = REOPEN_FIRST
                self._run_jobs()
                self._identify_once()
            except LinkError as exc:
                self.link.close()
                self._report(DeviceState.OFFLINE, str(exc))
                self._stop.wait(backoff)
                backoff = min(backoff * 2, REOPEN_MAX)
            except NoAnswer as exc:
                self._missed(str(exc))

    def _open(self) -> None:
        self.link.open()
        self.counters.reconnects += 1
        self._decoder.reset()
        try:
            answer = self._command(r30x.verify_password(self.config.password, self._address))
            if answer.code == Result.WRONG_PASSWORD:
                self._report(DeviceState.FAULT, "wrong module password (password in the config)")
                self.link.close()  # tried again later; a module is not unlocked by retrying
                self._stop.wait(REOPEN_MAX)
                return
            count = r30x.parse_count(self._command(r30x.template_count(self._address)))
            self.templates = count if isinstance(count, int) else None
        except NoAnswer as exc:
            self._missed(str(exc))

    def _run_jobs(self) -> None:
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                return
            if item is None:
                return
            job, future = item
            try:
                future.set_result(job())
            except (EnrolFailed, NoAnswer) as exc:
                future.set_exception(EnrolFailed(str(exc)))
            except LinkError as exc:  # the admin hears why; the loop reopens the port
                future.set_exception(EnrolFailed(f"the reader's port failed: {exc}"))
                raise

    def _identify_once(self) -> None:
        answer = self._command(r30x.gen_img(self._address))
        if answer.code != Result.OK:
            self._stop.wait(self.config.poll_seconds)
            return
        converted = self._command(r30x.img2tz(1, self._address))
        if converted.code in POOR:
            self.seen["poor"] += 1
            return
        found = self._command(r30x.search(1, 0, self.config.capacity, self._address))
        hit = r30x.parse_search(found) if found.code == Result.OK else None
        if isinstance(hit, r30x.SearchHit):
            self.seen["identified"] += 1
            self._emit(FingerIdentified(self.id, hit.page, hit.score))
        else:
            self.seen["unknown"] += 1
            self._emit(FingerUnknown(self.id))
        self._wait_for_lift()

    def _wait_for_lift(self) -> None:
        deadline = time.monotonic() + LIFT_TIMEOUT
        while time.monotonic() < deadline and not self._stop.is_set():
            if self._command(r30x.gen_img(self._address)).code == Result.NO_FINGER:
                return
            self._stop.wait(self.config.poll_seconds)

    def _enroll(self, page: int) -> int:
        if not 0 <= page < self.config.capacity:
            raise EnrolFailed(f"page {page} is outside 0-{self.config.capacity - 1}")
        for buffer in (1, 2):
            self._capture(buffer)
            if buffer == 1:
                self._wait_for_lift()
        combined = self._command(r30x.reg_model(self._address))
        if combined.code != Result.OK:
            raise EnrolFailed("the two touches are not of one finger: enrol again")
        self._expect_ok(r30x.store(1, page, self._address))
        self.templates = (self.templates or 0) + 1
        return page

    def _capture(self, buffer: int) -> None:
        deadline = time.monotonic() + CAPTURE_TIMEOUT
        while time.monotonic() < deadline:
            if self._command(r30x.gen_img(self._address)).code == Result.OK:
                converted = self._command(r30x.img2tz(buffer, self._address))
                if converted.code == Result.OK:
                    return
                self.seen["poor"] += 1
            self._stop.wait(self.config.poll_seconds)
        raise EnrolFailed(f"no finger on reader {self.id} within {CAPTURE_TIMEOUT:.0f} s")

    def _expect_ok(self, packet: r30x.Packet) -> int:
        answer = self._command(packet)
        if answer.code != Result.OK:
            raise EnrolFailed(f"the module answered {answer.code:#04x}")
        return answer.code

    def _command(self, packet: r30x.Packet) -> r30x.Ack:
        """Send one command and wait for its ack, within the deadline."""
        self.link.write(r30x.encode(packet))
        self.counters.frames_out += 1
        deadline = time.monotonic() + self.config.reply_timeout
        while (left := deadline - time.monotonic()) > 0:
            for item in self._decoder.feed(self.link.read(left)):
                if isinstance(item, FrameError):
                    self.counters.errors += 1
                    continue
                answer = r30x.parse_ack(item)
                if isinstance(answer, r30x.Ack):
                    self.counters.frames_in += 1
                    self._heard()
                    return answer
        raise NoAnswer(f"no answer from the module at {self.config.serial.device}")

    def _heard(self) -> None:
        if self._misses or self.tracker.state is not DeviceState.ONLINE:
            self._misses = 0
            self._report(DeviceState.ONLINE, None)
        self.context.loop.call_soon_threadsafe(self.tracker.seen)

    def _missed(self, reason: str) -> None:
        self._misses += 1
        self.counters.errors += 1
        self._decoder.reset()
        if self._misses >= MISSES_TO_OFFLINE:
            self._report(DeviceState.OFFLINE, f"{reason} ({self._misses} commands)")
        self._stop.wait(self.config.poll_seconds)

    def _emit(self, event: DeviceEvent) -> None:
        self.context.loop.call_soon_threadsafe(self.context.emit, event)

    def _report(self, state: DeviceState, reason: str | None) -> None:
        self.context.loop.call_soon_threadsafe(self.tracker.set, state, reason)
