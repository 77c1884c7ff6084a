"""The ADMS pusher against a small ADMS server written here on http.server."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from simulators.zk import AdmsPunch, AdmsPusher
from simulators.zk.adms import parse_options

SERIAL = "CQZ7224460246"
#: The handshake answer: heartbeats and retries every 50 ms keep the tests quick.
OPTIONS = (
    f"GET OPTION FROM: {SERIAL}\r\n"
    "ATTLOGStamp=0\r\nOPERLOGStamp=0\r\nErrorDelay=0.05\r\nDelay=0.05\r\n"
    "TransTimes=00:00;14:05\r\nTransInterval=1\r\nTransFlag=1111000000\r\n"
    "Realtime=1\r\nEncrypt=0\r\n"
)
NINE = dt.datetime(2026, 11, 25, 9, 0, 0)


@dataclass
class ServerState:
    """What the server saw, and how it behaves: ``up`` False answers 503."""

    up: bool = True
    requests: list[tuple[str, str, dict[str, list[str]], str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, method: str, path: str) -> list[dict[str, list[str]]]:
        with self.lock:
            return [query for m, p, query, _ in self.requests if (m, p) == (method, path)]


class Handler(BaseHTTPRequestHandler):
    server: AdmsServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        state = self.server.state
        with state.lock:
            state.requests.append((method, url.path, query, body))
            if not state.up:
                self._answer(503, "down")
                return
            if (method, url.path) == ("GET", "/iclock/cdata"):
                self._answer(200, OPTIONS)
            elif (method, url.path) == ("POST", "/iclock/cdata"):
                lines = body.splitlines()
                state.lines += lines
                self._answer(200, f"OK: {len(lines)}")
            elif (method, url.path) == ("GET", "/iclock/getrequest"):
                commands, state.commands = state.commands, []
                self._answer(200, "\n".join(commands) if commands else "OK")
            else:
                self._answer(404, "no such page")

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class AdmsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, state: ServerState | None = None) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state or ServerState()
        self._thread = threading.Thread(target=self._serve, name="adms-server")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def _serve(self) -> None:
        self.serve_forever(poll_interval=0.02)  # so that stop() is quick

    def start(self) -> AdmsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


@pytest.fixture
def servers() -> Iterator[Callable[..., AdmsServer]]:
    """Start ADMS servers; the ones still running are stopped after the test."""
    running: list[AdmsServer] = []

    def start(port: int = 0, state: ServerState | None = None) -> AdmsServer:
        server = AdmsServer(port, state).start()
        running.append(server)
        return server

    yield start
    for server in running:
        if server._thread.is_alive():
            server.stop()


@pytest.fixture
def pushers() -> Iterator[Callable[[str], AdmsPusher]]:
    """Start pushers to a server; they are stopped after the test."""
    started: list[AdmsPusher] = []

    def start(base_url: str) -> AdmsPusher:
        pusher = AdmsPusher(base_url, SERIAL, retry_seconds=0.05, timeout=1.0)
        pusher.start()
        started.append(pusher)
        return pusher

    yield start
    for pusher in started:
        pusher.stop()


def line(user_id: str, when: dt.datetime, status: int = 0, verify: int = 1) -> str:
    return f"{user_id}\t{when:%Y-%m-%d %H:%M:%S}\t{status}\t{verify}\t0\t0\t0"


def test_an_attlog_line_has_the_push_sdk_fields() -> None:
    punch = AdmsPunch(1, "1001", NINE, status=1, verify=15)
    assert punch.line() == "1001\t2026-11-25 09:00:00\t1\t15\t0\t0\t0"


def test_handshake_options_are_read_from_lf_or_crlf_lines() -> None:
    options = parse_options(OPTIONS)
    assert options["Delay"] == "0.05" and options["TransFlag"] == "1111000000"
    assert "GET OPTION FROM" not in " ".join(options)
    assert parse_options("GET OPTION FROM: X\nRealtime=1\n\njunk\n") == {"Realtime": "1"}


def test_it_shakes_hands_then_pushes_each_punch_once_in_order(
    servers: Callable[..., AdmsServer], pushers: Callable[[str], AdmsPusher]
) -> None:
    server = servers()
    pusher = pushers(server.url)
    assert wait_for(lambda: server.state.seen("GET", "/iclock/cdata"))
    [handshake] = server.state.seen("GET", "/iclock/cdata")
    assert handshake["SN"] == [SERIAL] and handshake["options"] == ["all"]
    sent = [
        pusher.punch("1001", NINE),
        pusher.punch("1002", NINE + dt.timedelta(seconds=30), status=1, verify=15),
        pusher.punch("1001", NINE + dt.timedelta(hours=8), status=1),
    ]
    expected = [line(p.user_id, p.when, p.status, p.verify) for p in sent]
    assert wait_for(lambda: len(server.state.lines) >= 3)
    time.sleep(0.2)  # heartbeats go on; nothing is sent twice
    assert server.state.lines == expected
    posts = server.state.seen("POST", "/iclock/cdata")
    assert all(query["table"] == ["ATTLOG"] and query["SN"] == [SERIAL] for query in posts)
    assert int(posts[-1]["Stamp"][0]) == 3
    assert pusher.queued == [] and pusher.counters["pushed"] == 3


def test_punches_made_while_the_server_is_down_arrive_once_in_order_when_it_is_back(
    servers: Callable[..., AdmsServer], pushers: Callable[[str], AdmsPusher]
) -> None:
    server = servers()
    pusher = pushers(server.url)
    assert wait_for(lambda: pusher.snapshot()["handshake_done"])
    server.state.up = False
    sent = [pusher.punch(f"10{i:02d}", NINE + dt.timedelta(minutes=i)) for i in range(5)]
    assert wait_for(lambda: pusher.counters["posts_failed"] >= 3)
    assert server.state.lines == [] and len(pusher.queued) == 5
    assert "503" in (pusher.snapshot()["last_error"] or "")
    server.state.up = True
    assert wait_for(lambda: not pusher.queued)
    assert server.state.lines == [line(p.user_id, p.when) for p in sent]


def test_punches_survive_a_server_that_is_gone_and_comes_back_on_its_port(
    servers: Callable[..., AdmsServer], pushers: Callable[[str], AdmsPusher]
) -> None:
    first = servers()
    port = first.server_address[1]
    first.stop()  # connection refused from now on
    pusher = pushers(first.url)
    early = pusher.punch("1001", NINE)
    assert wait_for(lambda: "ConnectError" in (pusher.snapshot()["last_error"] or ""))
    late = pusher.punch("1002", NINE + dt.timedelta(seconds=1))
    again = servers(port)
    assert wait_for(lambda: len(again.state.lines) == 2)
    assert again.state.lines == [line("1001", early.when), line("1002", late.when)]
    assert pusher.counters["handshakes"] == 1


def test_a_server_that_does_not_say_ok_gets_the_punches_again(
    servers: Callable[..., AdmsServer], pushers: Callable[[str], AdmsPusher]
) -> None:
    class Grudging(Handler):
        refusals = 2

        def _answer(self, status: int, text: str) -> None:
            if text.startswith("OK:") and Grudging.refusals:
                Grudging.refusals -= 1
                self.server.state.lines.clear()  # it did not keep them
                text = "ERROR"
            super()._answer(status, text)

    server = servers()
    server.RequestHandlerClass = Grudging
    pusher = pushers(server.url)
    pusher.punch("1001", NINE)
    assert wait_for(lambda: pusher.counters["pushed"] == 1)
    assert server.state.lines == [line("1001", NINE)]
    assert pusher.counters["posts"] == 3 and pusher.counters["posts_failed"] == 2


def test_heartbeats_poll_for_commands_which_are_recorded(
    servers: Callable[..., AdmsServer], pushers: Callable[[str], AdmsPusher]
) -> None:
    server = servers()
    pusher = pushers(server.url)
    assert wait_for(lambda: len(server.state.seen("GET", "/iclock/getrequest")) >= 3)
    assert server.state.seen("GET", "/iclock/getrequest")[0] == {"SN": [SERIAL]}
    server.state.commands = ["C:17:INFO", "C:18:CHECK"]
    assert wait_for(lambda: pusher.counters["commands"] == 2)
    snapshot = json.loads(json.dumps(pusher.snapshot()))
    assert snapshot["last_commands"] == ["C:17:INFO", "C:18:CHECK"]
    assert snapshot["heartbeat_seconds"] == 0.05  # the server's Delay
    assert snapshot["server_options"]["Realtime"] == "1"


def test_requests_carry_the_terminal_user_agent(
    servers: Callable[..., AdmsServer], pushers: Callable[[str], AdmsPusher]
) -> None:
    agents: list[str] = []

    class Recording(Handler):
        def _handle(self, method: str) -> None:
            agents.append(self.headers.get("User-Agent", ""))
            super()._handle(method)

    server = servers()
    server.RequestHandlerClass = Recording
    pushers(server.url)
    assert wait_for(lambda: agents)
    assert agents[0] == "iClock Proxy/1.09"


@pytest.mark.parametrize(
    ("user_id", "status", "verify"), [("", 0, 1), ("10\t01", 0, 1), ("1\n", 0, 1), ("1", -1, 1)]
)
def test_a_punch_that_cannot_be_a_line_is_refused(user_id: str, status: int, verify: int) -> None:
    pusher = AdmsPusher("http://127.0.0.1:9", SERIAL)
    with pytest.raises(ValueError):
        pusher.punch(user_id, NINE, status, verify)
    assert pusher.queued == []


def test_stop_is_prompt_and_safe_to_repeat(
    servers: Callable[..., AdmsServer], pushers: Callable[[str], AdmsPusher]
) -> None:
    pusher = pushers(servers().url)
    assert wait_for(lambda: pusher.snapshot()["handshake_done"])
    started = time.monotonic()
    pusher.stop()
    pusher.stop()
    assert time.monotonic() - started < 1.0
