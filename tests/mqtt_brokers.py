"""MQTT brokers for tests, and a recording MQTT client.

- `mosquitto`: a factory fixture that starts a real mosquitto (Debian's
  package) on a free loopback port, from a generated minimal config or a
  given one. `kill()` it (SIGKILL, as a crash would) and `start()` it again:
  same port, same config. Without the binary, tests that ask for it are
  skipped with MOSQUITTO_MISSING.
- `embedded_broker`: the daemon's own `EmbeddedBroker`, started in the test's
  event loop (async tests: `pytestmark = pytest.mark.anyio`).
- `Client`: paho-mqtt in its own thread, recording what it receives, with
  waits that poll from the event loop, so they never block a broker that
  runs in that loop; the `mqtt_clients` fixture makes them and closes them
  at the end of the test.

Registered for the whole suite by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from string import Template
from typing import Any, Protocol

import paho.mqtt.client as mqtt
import pytest

from daemon.mqtt.broker import BrokerUrl, EmbeddedBroker
from tests.waiting import until

MOSQUITTO_MISSING = (
    "mosquitto is not installed: apt-get install mosquitto, or run make test, which installs it"
)
LOOPBACK = "127.0.0.1"

# What the tests need of a broker. Mosquitto's default max_queued_messages
# (1000) silently drops QoS 1 messages for a subscriber that falls behind, as
# a test's client can under load; hall.conf raises it the same way.
MINIMAL_CONFIG = """\
listener ${port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
"""


def _sbin(name: str) -> str | None:
    """A tool from Debian's mosquitto package: /usr/sbin is not on every PATH."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/local/sbin"):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def mosquitto_binary() -> str | None:
    return _sbin("mosquitto")


def mosquitto_passwd_binary() -> str | None:
    return _sbin("mosquitto_passwd")


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Mosquitto:
    """One mosquitto process with its own folder (config, log, anything else)."""

    host = LOOPBACK

    def __init__(self, binary: str, folder: Path, config: str, port: int) -> None:
        self.binary = binary
        self.folder = folder
        self.port = port
        self.config_path = folder / "mosquitto.conf"
        self.log_path = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        text = Template(config).safe_substitute(port=port, dir=str(folder))
        # Started as root, mosquitto 2 switches to the user "mosquitto", who
        # cannot read a test's tmp_path: stay who we are (a no-op otherwise).
        text += f"\n# added by tests/mqtt_brokers.py\nuser {pwd.getpwuid(os.getuid()).pw_name}\n"
        self.config_path.write_text(text, encoding="utf-8")

    @property
    def url(self) -> BrokerUrl:
        return BrokerUrl(self.host, self.port)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> Mosquitto:
        """Start it (again, on the same port) and wait until it accepts connections."""
        if self.running:
            raise RuntimeError("mosquitto is already running")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self.process.returncode}:\n{self.log()}"
                )
            if accepts_connections(self.host, self.port) and self.process.poll() is None:
                return self
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(
            f"mosquitto did not listen on port {self.port} in {timeout} s:\n{self.log()}"
        )

    def kill(self) -> None:
        """SIGKILL: no goodbye to its clients, nothing saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM (mosquitto saves and says goodbye), SIGKILL if it hangs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> Mosquitto:
        """Kill it and start it again on the same port."""
        self.kill()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""


class StartMosquitto(Protocol):
    def __call__(self, config: str | None = None, *, port: int | None = None) -> Mosquitto: ...


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[StartMosquitto]:
    """Start mosquitto brokers; each is stopped at the end of the test.

    `mosquitto()` runs MINIMAL_CONFIG (anonymous, no persistence) on a free
    loopback port. `mosquitto(config)` runs a whole config of the test's own,
    in which `${port}` is that port (or `port=`) and `${dir}` the broker's
    folder (for password files, persistence, certificates).
    """
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip(MOSQUITTO_MISSING)
    started: list[Mosquitto] = []

    def start(config: str | None = None, *, port: int | None = None) -> Mosquitto:
        folder = tmp_path / f"mosquitto-{len(started) + 1}"
        broker = Mosquitto(binary, folder, config or MINIMAL_CONFIG, port or free_port())
        started.append(broker)
        return broker.start()

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture
async def embedded_broker() -> AsyncIterator[EmbeddedBroker]:
    """The daemon's embedded broker on a free loopback port, in the test's loop."""
    broker = EmbeddedBroker()
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture
async def mqtt_clients() -> AsyncIterator[Callable[..., Client]]:
    """`mqtt_clients(broker_url, client_id, **options)`: a `Client`, closed after the test."""
    made: list[Client] = []

    def make(*args: Any, **kwargs: Any) -> Client:
        client = Client(*args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


class Client:
    """A paho-mqtt (MQTT 3.1.1) client in its own thread that records everything.

    Construct, then `await client.connect()`. Paho reconnects by itself when
    the connection is lost (`auto_reconnect=False` to stop that).
    """

    def __init__(
        self,
        broker: BrokerUrl,
        client_id: str = "",
        *,
        username: str | None = None,
        password: str | None = None,
        will: tuple[str, bytes | str, int, bool] | None = None,
        clean_session: bool = True,
        keepalive: int = 30,
        auto_reconnect: bool = True,
    ) -> None:
        self.broker = broker
        self.keepalive = keepalive
        self.paho = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=auto_reconnect,
        )
        user = username if username is not None else broker.username
        if user is not None:
            self.paho.username_pw_set(user, password if password is not None else broker.password)
        if broker.tls:
            self.paho.tls_set(ca_certs=str(broker.ca_file) if broker.ca_file else None)
        if will is not None:
            topic, payload, qos, retain = will
            self.paho.will_set(topic, payload, qos=qos, retain=retain)
        self.paho.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
        self._lock = threading.Lock()
        self.messages: list[mqtt.MQTTMessage] = []
        self.connects: list[mqtt.ReasonCode] = []  # CONNACK results, in order
        self.disconnects: list[mqtt.ReasonCode] = []
        self.granted: dict[int, list[mqtt.ReasonCode]] = {}  # SUBACK by message id
        self._seen = 0  # successful connections connect() or reconnected() saw
        self.paho.on_connect = self._on_connect
        self.paho.on_disconnect = self._on_disconnect
        self.paho.on_message = self._on_message
        self.paho.on_subscribe = self._on_subscribe

    # paho's thread
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._lock:
            self.connects.append(reason)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._lock:
            self.disconnects.append(reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        with self._lock:
            self.granted[mid] = list(reasons)

    # the test's side
    @property
    def connected(self) -> bool:
        return self.paho.is_connected()

    def _successes(self) -> int:
        with self._lock:
            return sum(1 for reason in self.connects if not reason.is_failure)

    async def connect(
        self, timeout: float = 5.0, *, expect_refusal: bool = False
    ) -> mqtt.ReasonCode:
        """Connect (CONNACK received); refused raises unless `expect_refusal`."""
        before = len(self.connects)
        self.paho.connect_async(self.broker.host, self.broker.port, keepalive=self.keepalive)
        self.paho.loop_start()
        await until(lambda: len(self.connects) > before, timeout, f"a CONNACK from {self.broker}")
        reason = self.connects[before]
        if reason.is_failure and not expect_refusal:
            raise AssertionError(f"{self.broker} refused the connection: {reason}")
        if expect_refusal:
            await asyncio.to_thread(self.paho.loop_stop)
        self._seen = self._successes()
        return reason

    async def reconnected(self, timeout: float = 10.0) -> None:
        """Wait until paho has connected again since `connect()` (or the last
        `reconnected()`), after a lost connection; at once if it already has
        (a broker restarted quickly)."""
        await until(
            lambda: self._successes() > self._seen and self.connected,
            timeout,
            f"a reconnection to {self.broker}",
        )
        self._seen = self._successes()

    async def subscribe(self, topic: str, qos: int = 1, timeout: float = 5.0) -> int:
        """Subscribe and wait for the SUBACK; the QoS granted (128: refused)."""
        result, mid = self.paho.subscribe(topic, qos)
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError(f"subscribe {topic}: {mqtt.error_string(result)}")
        reasons = await until(lambda: self.granted.get(mid), timeout, f"a SUBACK for {topic}")
        return int(reasons[0].value)

    def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False
    ) -> mqtt.MQTTMessageInfo:
        return self.paho.publish(topic, payload, qos=qos, retain=retain)

    async def publish_acked(
        self,
        topic: str,
        payload: bytes | str,
        qos: int = 1,
        retain: bool = False,
        timeout: float = 5.0,
    ) -> None:
        """Publish and wait until the broker acknowledged it (sent, for QoS 0)."""
        info = self.publish(topic, payload, qos, retain)
        await until(info.is_published, timeout, f"the broker's ack of {topic}")

    def received(self, topic: str | None = None) -> list[mqtt.MQTTMessage]:
        with self._lock:
            return [m for m in self.messages if topic is None or m.topic == topic]

    def payloads(self, topic: str | None = None) -> list[bytes]:
        return [m.payload for m in self.received(topic)]

    async def wait_for(
        self, topic: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[mqtt.MQTTMessage]:
        """The first `count` messages (on `topic`), once they are here."""
        await until(
            lambda: len(self.received(topic)) >= count,
            timeout,
            f"{count} message(s) on {topic or 'any topic'} (have {len(self.received(topic))})",
        )
        return self.received(topic)[:count]

    async def drop(self) -> None:
        """Lose the connection without DISCONNECT: as a device whose cable is pulled
        (the broker sees the TCP connection close) and no reconnecting."""
        await asyncio.to_thread(self.paho.loop_stop)
        sock = self.paho.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    async def go_silent(self) -> None:
        """Stop reading and writing but keep the TCP connection open: as a
        device whose power is cut (no FIN reaches the broker; only the
        keep-alive tells), or a client that falls behind. `resume()` ends it."""
        await asyncio.to_thread(self.paho.loop_stop)

    def resume(self) -> None:
        """Read and write again after `go_silent()`, on the same connection."""
        self.paho.loop_start()

    async def close(self) -> None:
        """DISCONNECT (no will) and stop the thread; safe to call twice."""
        self.paho.disconnect()
        await asyncio.to_thread(self.paho.loop_stop)
        sock = self.paho.socket()
        if sock is not None:
            sock.close()
