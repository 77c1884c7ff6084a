"""A simulated ADMS terminal: newer ZKTeco terminals push punches over HTTP
("PUSH SDK", PROTOCOLS.md section 4) instead of waiting to be asked on port 4370.

The exchange, as ZKTeco's PUSH SDK protocol documents describe it (their
request templates are quoted by public server implementations, whose tests
show the same lines):

* Handshake, at start and until it succeeds:
  ``GET /iclock/cdata?SN=<serial>&options=all&pushver=2.4.1``. The server
  answers ``text/plain``: a first line ``GET OPTION FROM: <serial>`` and
  ``Key=Value`` lines (LF or CRLF), e.g. ``ATTLOGStamp=0``, ``ErrorDelay=30``,
  ``Delay=10``, ``TransTimes=00:00;14:05``, ``TransInterval=1``,
  ``TransFlag=...``, ``Realtime=1``, ``Encrypt=0``. This pusher uses ``Delay``
  (seconds between heartbeats) and ``ErrorDelay`` (seconds before trying
  again after a failure), which override its own defaults, and shows the rest.
* Punches: ``POST /iclock/cdata?SN=<serial>&table=ATTLOG&Stamp=<stamp>`` with
  a ``text/plain`` body of one line per punch, oldest first::

      <user id>\\t<YYYY-MM-DD hh:mm:ss>\\t<status>\\t<verify>\\t<workcode>\\t0\\t0\\n

  ``status`` is the attendance state (0 check in, 1 check out, 2 break out,
  3 break in, 4 overtime in, 5 overtime out) and ``verify`` how the user
  proved who they are (0 password, 1 fingerprint, 2 card, 15 face). Note the
  names: pyzk and the TCP protocol call the verification "status" and the
  state "punch". The server answers ``OK`` (many answer ``OK: <count>``); any
  other answer, or none, means the same lines are sent again after
  ``ErrorDelay``, so nothing is lost while the server is down. The stamp here
  is the sequence number of the batch's last punch (real terminals use a time
  value); the server's ``ATTLOGStamp`` is not used to skip punches.
* Heartbeat every ``Delay`` seconds while nothing is waiting to be pushed:
  ``GET /iclock/getrequest?SN=<serial>``; the server answers ``OK`` or
  command lines ``C:<id>:<command>``, which this pusher records but does not
  carry out.

Every request carries ``User-Agent: iClock Proxy/1.09`` as terminals send it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

__all__ = [
    "DEFAULT_HEARTBEAT_SECONDS",
    "DEFAULT_RETRY_SECONDS",
    "MAX_BATCH",
    "AdmsPunch",
    "AdmsPusher",
    "parse_options",
]

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_SECONDS = 10.0
DEFAULT_RETRY_SECONDS = 30.0
#: Most punches sent in one POST.
MAX_BATCH = 100
#: Commands and pushed lines `AdmsPusher.snapshot` shows.
SHOWN = 10
JOIN_TIMEOUT = 5.0
USER_AGENT = "iClock Proxy/1.09"
PUSH_VERSION = "2.4.1"


@dataclass(frozen=True)
class AdmsPunch:
    """A punch waiting to be pushed; ``seq`` numbers punches from 1 in order."""

    seq: int
    user_id: str
    when: dt.datetime
    status: int
    verify: int

    def line(self) -> str:
        """The ATTLOG line, work code and reserved fields 0."""
        when = self.when.strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.user_id}\t{when}\t{self.status}\t{self.verify}\t0\t0\t0"


def parse_options(text: str) -> dict[str, str]:
    """The ``Key=Value`` lines of a handshake answer (the ``GET OPTION FROM`` line
    and anything without ``=`` are left out)."""
    options: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            options[key.strip()] = value.strip()
    return options


def _seconds(options: dict[str, str], key: str, default: float) -> float:
    try:
        value = float(options[key])
    except (KeyError, ValueError):
        return default
    return value if value >= 0 else default


class AdmsPusher:
    """A terminal with serial number ``serial_number`` pushing to the ADMS server at
    ``base_url`` (e.g. ``http://127.0.0.1:8081``) from its own thread.

    ``heartbeat_seconds`` and ``retry_seconds`` apply until the server's
    handshake answer gives ``Delay`` and ``ErrorDelay``.
    """

    kind: ClassVar[str] = "adms"
    model: ClassVar[str] = "zk-adms"

    def __init__(
        self,
        base_url: str,
        serial_number: str,
        *,
        id: str | None = None,
        heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        timeout: float = 5.0,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        if not serial_number or not serial_number.isprintable() or " " in serial_number:
            raise ValueError(f"a serial number is printable without spaces, got {serial_number!r}")
        self.base_url = base_url.rstrip("/")
        self.serial_number = serial_number
        self.id = id or serial_number
        self.heartbeat_seconds = heartbeat_seconds
        self.retry_seconds = retry_seconds
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Condition()
        self._queue: deque[AdmsPunch] = deque()
        self._next_seq = 1
        self._options: dict[str, str] | None = None
        self._next_heartbeat = 0.0
        self._pushed: deque[str] = deque(maxlen=SHOWN)
        self._commands: deque[str] = deque(maxlen=SHOWN)
        self._last_error: str | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._counts = dict.fromkeys(
            (
                "punches",
                "pushed",
                "handshakes",
                "posts",
                "posts_failed",
                "heartbeats",
                "heartbeats_failed",
                "commands",
            ),
            0,
        )

    def __repr__(self) -> str:
        return f"AdmsPusher({self.id!r}, {self.base_url!r})"

    def __enter__(self) -> AdmsPusher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- punches -----------------------------------------------------------------------

    def punch(
        self, user_id: str, when: dt.datetime | None = None, status: int = 0, verify: int = 1
    ) -> AdmsPunch:
        """Queue a punch for the server (``when`` defaults to now, to the second);
        ValueError for a user id with tabs or line breaks, or a negative code."""
        if not user_id or not user_id.isprintable() or "\t" in user_id:
            raise ValueError(f"a user id is printable without tabs, got {user_id!r}")
        if status < 0 or verify < 0:
            raise ValueError(f"status and verify are not negative, got {status}, {verify}")
        with self._lock:
            punch = AdmsPunch(
                self._next_seq,
                user_id,
                (when or self._clock()).replace(microsecond=0),
                status,
                verify,
            )
            self._next_seq += 1
            self._queue.append(punch)
            self._counts["punches"] += 1
            self._lock.notify_all()
        return punch

    @property
    def queued(self) -> list[AdmsPunch]:
        """Punches the server has not accepted yet, oldest first."""
        with self._lock:
            return list(self._queue)

    # --- the thread --------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None or self._stopping:
            raise RuntimeError(f"ADMS pusher {self.id!r} was already started")
        self._thread = threading.Thread(target=self._run, name=f"sim-adms-{self.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (a request under way finishes or times out). Safe to repeat."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(JOIN_TIMEOUT + self._timeout)

    def _run(self) -> None:
        headers = {"User-Agent": USER_AGENT}
        try:
            with httpx.Client(
                base_url=self.base_url, timeout=self._timeout, headers=headers
            ) as http:
                while not self._stopping:
                    self._step(http)
        except Exception:
            log.exception("ADMS pusher %s: the thread failed", self.id)

    def _step(self, http: httpx.Client) -> None:
        """Do the next thing that is due, or wait until something is."""
        if self._options is None:
            done = self._handshake(http)
        elif self.queued:
            done = self._push(http)
        elif time.monotonic() >= self._next_heartbeat:
            self._heartbeat(http)  # a failed heartbeat is retried at the next one
            return
        else:
            self._wait(self._next_heartbeat - time.monotonic(), for_punch=True)
            return
        if not done:
            self._wait(self.retry_seconds, for_punch=False)

    def _wait(self, seconds: float, for_punch: bool) -> None:
        """Sleep ``seconds``, less if stopped or (``for_punch``) a punch is queued."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while not self._stopping and not (for_punch and self._queue):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._lock.wait(left)

    def _handshake(self, http: httpx.Client) -> bool:
        params = {"SN": self.serial_number, "options": "all", "pushver": PUSH_VERSION}
        response = self._call(http, "handshake", "GET", "/iclock/cdata", params=params)
        if response is None:
            return False
        options = parse_options(response.text)
        with self._lock:
            self._options = options
            self._counts["handshakes"] += 1
            self.heartbeat_seconds = _seconds(options, "Delay", self.heartbeat_seconds)
            self.retry_seconds = _seconds(options, "ErrorDelay", self.retry_seconds)
            self._next_heartbeat = time.monotonic() + self.heartbeat_seconds
        return True

    def _push(self, http: httpx.Client) -> bool:
        with self._lock:
            batch = list(self._queue)[:MAX_BATCH]
        body = "".join(punch.line() + "\n" for punch in batch)
        params = {"SN": self.serial_number, "table": "ATTLOG", "Stamp": str(batch[-1].seq)}
        headers = {"Content-Type": "text/plain"}
        response = self._call(
            http, "push", "POST", "/iclock/cdata", params=params, content=body, headers=headers
        )
        with self._lock:
            self._counts["posts"] += 1
            if response is None or not response.text.lstrip().startswith("OK"):
                self._counts["posts_failed"] += 1
                if response is not None:
                    self._last_error = f"push: the server answered {response.text[:80]!r}"
                return False
            for punch in batch:
                self._queue.popleft()
                self._pushed.append(punch.line())
            self._counts["pushed"] += len(batch)
        return True

    def _heartbeat(self, http: httpx.Client) -> None:
        response = self._call(
            http, "heartbeat", "GET", "/iclock/getrequest", params={"SN": self.serial_number}
        )
        with self._lock:
            self._next_heartbeat = time.monotonic() + self.heartbeat_seconds
            if response is None:
                self._counts["heartbeats_failed"] += 1
                return
            self._counts["heartbeats"] += 1
            for line in response.text.splitlines():
                if line.startswith("C:"):
                    self._commands.append(line.strip())
                    self._counts["commands"] += 1

    def _call(
        self, http: httpx.Client, what: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        """The server's answer, or None (and the error noted) if there was none
        or it was not a 200."""
        try:
            response = http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            problem = f"{type(error).__name__}: {error}"
        else:
            if response.status_code == 200:
                return response
            problem = f"HTTP {response.status_code} {response.text[:80]!r}"
        with self._lock:
            self._last_error = f"{what}: {problem}"
        log.debug("ADMS pusher %s: %s failed: %s", self.id, what, problem)
        return None

    # --- inspection ----------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def describe(self) -> dict[str, Any]:
        """What `sim list` shows of the pusher."""
        with self._lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "model": self.model,
                "faults": [],
                "where": self.base_url,
                "queued": len(self._queue),
            }

    def snapshot(self) -> dict[str, Any]:
        """State, counters, the last lines pushed and commands received, JSON-safe."""
        with self._lock:
            return {
                **self.describe(),
                "serial_number": self.serial_number,
                "handshake_done": self._options is not None,
                "server_options": dict(self._options or {}),
                "heartbeat_seconds": self.heartbeat_seconds,
                "retry_seconds": self.retry_seconds,
                "queued_lines": [punch.line() for punch in self._queue][:SHOWN],
                "last_pushed": list(self._pushed),
                "last_commands": list(self._commands),
                "last_error": self._last_error,
                "counters": dict(self._counts),
            }
