"""The hall's MQTT brokers: what `mqtt.broker` accepts, the embedded broker
(checked against mosquitto on everything the daemon relies on), the
`mosquitto` test fixture, and the hall broker's configs in systemd/mosquitto/."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from daemon.mqtt.broker import BrokerUrl, Embedded, EmbeddedBroker, parse_broker
from tests.mqtt_brokers import (
    Client,
    Mosquitto,
    StartMosquitto,
    accepts_connections,
    mosquitto_passwd_binary,
    until,
)

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[3]
CONFIGS = REPO / "systemd" / "mosquitto"
HALL = "hallkeeper/demo-hall"
MakeClient = Callable[..., Client]


# -- mqtt.broker ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("embedded", Embedded()),
        ("  Embedded ", Embedded()),
        ("mqtt://broker.hall.lan", BrokerUrl("broker.hall.lan", 1883)),
        ("mqtt://127.0.0.1:1884", BrokerUrl("127.0.0.1", 1884)),
        ("MQTT://Broker.Hall.LAN:1883/", BrokerUrl("broker.hall.lan", 1883)),
        ("mqtt://[::1]:1885", BrokerUrl("::1", 1885)),
        ("mqtts://mqtt.city.example", BrokerUrl("mqtt.city.example", 8883, tls=True)),
        ("mqtts://mqtt.city.example:443", BrokerUrl("mqtt.city.example", 443, tls=True)),
        (
            "mqtt://hallkeeper:s3cret@127.0.0.1",
            BrokerUrl("127.0.0.1", 1883, username="hallkeeper", password="s3cret"),
        ),
        ("mqtt://monitor@127.0.0.1", BrokerUrl("127.0.0.1", 1883, username="monitor")),
        (
            "mqtt://hallkeeper:@127.0.0.1",
            BrokerUrl("127.0.0.1", 1883, username="hallkeeper", password=""),
        ),
        (
            "mqtts://hall%40county:p%3Ass%2Fw%40rd%25@mqtt.city.example:8883",
            BrokerUrl("mqtt.city.example", 8883, True, "hall@county", "p:ss/w@rd%"),
        ),
    ],
)
def test_broker_forms_it_accepts(value: str, expected: BrokerUrl | Embedded) -> None:
    assert parse_broker(value) == expected


def test_mqtts_takes_a_ca_file(tmp_path: Path) -> None:
    ca = tmp_path / "city-ca.crt"
    broker = parse_broker("mqtts://hall:pw@mqtt.city.example", ca_file=str(ca))
    assert broker == BrokerUrl("mqtt.city.example", 8883, True, "hall", "pw", ca)
    assert parse_broker("mqtts://mqtt.city.example", ca_file=ca).ca_file == ca
    assert parse_broker("mqtts://mqtt.city.example", ca_file=None).ca_file is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://broker:1883", "mqtt.broker: scheme 'http' is not mqtt, mqtts or embedded"),
        ("ws://broker", "scheme 'ws' is not mqtt, mqtts or embedded"),
        ("broker.hall.lan:1883", "'broker.hall.lan:1883' is not embedded, mqtt://"),
        ("embeded", "'embeded' is not embedded, mqtt://"),
        ("", "mqtt.broker: empty"),
        ("mqtt://", "no host in 'mqtt://'"),
        ("mqtt://:1883", "no host in 'mqtt://:1883'"),
        ("mqtt://broker:0", "port '0' in 'mqtt://broker:0' is not from 1 to 65535"),
        ("mqtt://broker:65536", "port '65536'"),
        ("mqtt://broker:mqtt", "port 'mqtt'"),
        ("mqtt://broker/hall", "'mqtt://broker/hall' has more than [user:password@]host[:port]"),
        ("mqtt://broker?ssl=1", "has more than"),
        ("mqtt://bro ker", "'bro ker' in 'mqtt://bro ker' is not a host name or address"),
        ("mqtt://[::1", "is not a URL"),
        ("mqtt://:s3cret@broker", "a password without a user name in 'mqtt://:***@broker'"),
    ],
)
def test_what_is_wrong_with_a_broker_it_refuses(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_broker(value)


def test_a_ca_file_needs_mqtts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape("mqtt.ca_file is for an mqtts:// broker")):
        parse_broker("mqtt://hall:s3cret@broker", ca_file=tmp_path / "ca.crt")
    with pytest.raises(ValueError, match="not the embedded one"):
        parse_broker("embedded", ca_file=tmp_path / "ca.crt")


@pytest.mark.parametrize(
    "value",
    [
        "mqtt://hall:s3cret@broker:0",
        "mqtt://hall:s3cret@broker/x",
        "http://hall:s3cret@broker",
        "hall:s3cret@broker:1883",
        "mqtt://hall:s3cret@bro ker",
        "mqtt://hall:s3cret@[::1",
        "mqtt://hall:s3cret://x@broker:0",
    ],
)
def test_errors_and_logs_never_show_the_password(value: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_broker(value)
    assert "s3cret" not in str(refused.value)
    broker = parse_broker("mqtt://hall:s3cret@broker")
    assert isinstance(broker, BrokerUrl)
    assert broker.where == "mqtt://hall@broker:1883" == str(broker)
    assert "s3cret" not in repr(broker)


def test_a_broker_url_is_frozen() -> None:
    broker = parse_broker("mqtt://broker")
    with pytest.raises(dataclasses.FrozenInstanceError):
        broker.port = 1  # type: ignore[misc]


# -- the embedded broker and mosquitto, side by side ---------------------------------


@pytest.fixture(params=["embedded", "mosquitto"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[BrokerUrl]:
    """What the daemon relies on, on the embedded broker and on a real mosquitto."""
    if request.param == "embedded":
        async with EmbeddedBroker() as embedded:
            yield embedded.url
    else:
        start: StartMosquitto = request.getfixturevalue("mosquitto")
        yield start().url


async def test_a_qos1_message_goes_round_trip(broker: BrokerUrl, mqtt_clients: MakeClient) -> None:
    daemon = mqtt_clients(broker, "daemon")
    device = mqtt_clients(broker, "window-1-display")
    await daemon.connect()
    await device.connect()
    assert await device.subscribe(f"{HALL}/device/window-1-display/set", qos=1) == 1

    await daemon.publish_acked(f"{HALL}/device/window-1-display/set", b'{"type":"beep"}', qos=1)

    (message,) = await device.wait_for()
    assert (message.topic, message.payload, message.qos, message.retain) == (
        f"{HALL}/device/window-1-display/set",
        b'{"type":"beep"}',
        1,
        False,
    )


async def test_a_retained_message_reaches_a_late_subscriber(
    broker: BrokerUrl, mqtt_clients: MakeClient
) -> None:
    topic = f"{HALL}/device/kiosk-1/availability"
    daemon = mqtt_clients(broker, "daemon")
    watching = mqtt_clients(broker, "dashboard")
    await daemon.connect()
    await watching.connect()
    await watching.subscribe(f"{HALL}/#")
    await daemon.publish_acked(topic, b'{"state":"online"}', retain=True)
    (live,) = await watching.wait_for(topic)
    assert live.retain is False, "a live subscriber's copy is not marked retained"

    late = mqtt_clients(broker, "late-dashboard")
    await late.connect()
    await late.subscribe(f"{HALL}/device/+/availability")
    (message,) = await late.wait_for(topic)
    assert (message.payload, message.retain, message.qos) == (b'{"state":"online"}', True, 1)

    # Only to whoever subscribes to it: not to a client subscribed elsewhere
    # (amqtt sends it to any client that connects).
    other = mqtt_clients(broker, "events-only")
    await other.connect()
    await other.subscribe(f"{HALL}/event/#")
    await daemon.publish_acked(f"{HALL}/event/ticket-issued", b"{}")
    await other.wait_for()
    assert other.payloads() == [b"{}"]

    # An empty retained message clears it.
    await daemon.publish_acked(topic, b"", retain=True)
    await watching.wait_for(topic, count=2)
    cleared = mqtt_clients(broker, "after-clear")
    await cleared.connect()
    await cleared.subscribe(f"{HALL}/#")
    await daemon.publish_acked(f"{HALL}/event/marker", b"marker")
    await cleared.wait_for(f"{HALL}/event/marker")
    assert cleared.received(topic) == []


async def test_a_last_will_is_published_when_a_client_drops_its_connection(
    broker: BrokerUrl, mqtt_clients: MakeClient
) -> None:
    report = f"{HALL}/device/window-2-pad/report"
    daemon = mqtt_clients(broker, "daemon")
    await daemon.connect()
    await daemon.subscribe(f"{HALL}/device/+/report")
    pad = mqtt_clients(
        broker, "window-2-pad", will=(report, b'{"type":"gone"}', 1, True), auto_reconnect=False
    )
    await pad.connect()
    await pad.publish_acked(report, b'{"type":"hello"}')
    await daemon.wait_for(report)

    await pad.drop()

    messages = await daemon.wait_for(report, count=2)
    assert [(m.payload, m.qos) for m in messages] == [
        (b'{"type":"hello"}', 1),
        (b'{"type":"gone"}', 1),
    ]
    late = mqtt_clients(broker, "late")
    await late.connect()
    await late.subscribe(report)
    (will,) = await late.wait_for(report)
    assert (will.payload, will.retain) == (b'{"type":"gone"}', True)


async def test_no_will_after_a_clean_disconnect(
    broker: BrokerUrl, mqtt_clients: MakeClient
) -> None:
    daemon = mqtt_clients(broker, "daemon")
    await daemon.connect()
    await daemon.subscribe(f"{HALL}/#")
    pad = mqtt_clients(broker, "pad", will=(f"{HALL}/device/pad/report", b"gone", 1, False))
    await pad.connect()
    await pad.close()
    await daemon.publish_acked(f"{HALL}/event/marker", b"marker")
    await daemon.wait_for(f"{HALL}/event/marker")
    await asyncio.sleep(0.2)
    assert daemon.payloads() == [b"marker"]


async def test_a_silent_client_is_dropped_after_one_and_a_half_keep_alives(
    broker: BrokerUrl, mqtt_clients: MakeClient
) -> None:
    """A device whose power is cut sends no FIN: only the keep-alive tells."""
    report = f"{HALL}/device/window-3-keypad/report"
    daemon = mqtt_clients(broker, "daemon")
    await daemon.connect()
    await daemon.subscribe(report)
    idle = mqtt_clients(broker, "window-5-keypad", keepalive=1)  # pings, says nothing else
    keypad = mqtt_clients(
        broker,
        "window-3-keypad",
        will=(report, b"gone", 1, False),
        keepalive=2,
        auto_reconnect=False,
    )
    await idle.connect()
    await keypad.connect()

    await keypad.go_silent()
    silent_since = time.monotonic()

    await daemon.wait_for(report, timeout=10)
    assert 1.0 <= time.monotonic() - silent_since < 8.0
    assert idle.connected and idle.disconnects == [], "a client that pings stays"


async def test_a_client_id_taken_over_ends_the_old_connection(
    broker: BrokerUrl, mqtt_clients: MakeClient
) -> None:
    """A device back after a power cut, before the broker noticed it was gone."""
    report = f"{HALL}/device/window-4-display/report"
    daemon = mqtt_clients(broker, "daemon")
    await daemon.connect()
    await daemon.subscribe(report)
    before = mqtt_clients(
        broker, "window-4-display", will=(report, b"gone", 1, False), auto_reconnect=False
    )
    await before.connect()

    after = mqtt_clients(broker, "window-4-display")
    await after.connect()
    await until(lambda: before.disconnects, what="the old connection to be closed")
    await after.publish_acked(report, b"hello")

    # The old connection's will (as mosquitto does for MQTT 3.1.1), then the new one's hello.
    assert [m.payload for m in await daemon.wait_for(report, count=2)] == [b"gone", b"hello"]
    await asyncio.sleep(0.3)
    assert daemon.payloads(report) == [b"gone", b"hello"]
    assert after.connected


# -- the embedded broker alone -------------------------------------------------------


async def test_the_embedded_broker_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback only"):
        EmbeddedBroker(host="0.0.0.0")
    with pytest.raises(ValueError, match="loopback only"):
        EmbeddedBroker(host="192.168.10.1")
    async with EmbeddedBroker() as broker:
        assert broker.url == BrokerUrl("127.0.0.1", broker.port)
        assert accepts_connections("127.0.0.1", broker.port)


async def test_the_embedded_broker_says_when_its_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = EmbeddedBroker(port=taken.getsockname()[1])
        with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1"):
            await broker.start()
        assert not broker.running


async def test_stopping_the_embedded_broker_closes_connections_and_it_starts_again_on_its_port(
    mqtt_clients: MakeClient,
) -> None:
    broker = EmbeddedBroker()
    await broker.start()
    try:
        port = broker.port
        daemon = mqtt_clients(broker.url, "daemon")
        await daemon.connect()

        await broker.stop()
        await until(lambda: daemon.disconnects, what="the daemon to see the broker gone")
        assert not accepts_connections("127.0.0.1", port)

        await broker.start()
        assert broker.port == port
        await daemon.reconnected()
        await daemon.subscribe("hallkeeper/#")
        await daemon.publish_acked(f"{HALL}/event/x", b"again")
        assert (await daemon.wait_for())[0].payload == b"again"
    finally:
        await broker.stop()


async def test_the_embedded_broker_logs_warnings_only(
    embedded_broker: EmbeddedBroker, mqtt_clients: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = mqtt_clients(embedded_broker.url, "chatty")
    await client.connect()
    await client.subscribe("a/#")
    await client.publish_acked("a/b", b"x")
    await client.wait_for()
    with socket.create_connection(("127.0.0.1", embedded_broker.port)):
        pass  # a port check: connects and closes without a word of MQTT
    await client.close()
    await asyncio.sleep(0.2)
    noise = [
        f"{r.name} {r.levelname} {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith(("amqtt", "transitions"))
    ]
    assert noise == []


async def test_the_embedded_broker_leaves_the_event_loop_responsive(
    embedded_broker: EmbeddedBroker, mqtt_clients: MakeClient
) -> None:
    """The daemon's loop also runs the hall: relaying messages must not stall it."""
    publisher = mqtt_clients(embedded_broker.url, "daemon")
    subscriber = mqtt_clients(embedded_broker.url, "dashboard")
    await publisher.connect()
    await subscriber.connect()
    await subscriber.subscribe(f"{HALL}/event/#")
    worst = 0.0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal worst
        while not done.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.005)
            worst = max(worst, time.monotonic() - before - 0.005)

    ticker = asyncio.create_task(tick())
    for seq in range(1000):
        publisher.publish(f"{HALL}/event/ticket-issued", str(seq), qos=1)
    await subscriber.wait_for(count=1000, timeout=30)
    done.set()
    await ticker
    assert [int(p) for p in subscriber.payloads()] == list(range(1000)), "in order, none lost"
    assert worst < 0.25, f"the loop stalled for {worst:.3f} s"


async def test_a_subscriber_far_behind_gets_every_qos1_message_without_a_fuss(
    embedded_broker: EmbeddedBroker, mqtt_clients: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A dashboard that stalls for longer than amqtt waits for a PUBACK (5 s)."""
    daemon = mqtt_clients(embedded_broker.url, "daemon")
    dashboard = mqtt_clients(embedded_broker.url, "dashboard")
    await daemon.connect()
    await dashboard.connect()
    await dashboard.subscribe(f"{HALL}/event/#")
    await dashboard.go_silent()
    for seq in range(50):
        await daemon.publish_acked(f"{HALL}/event/ticket-issued", str(seq))
    await asyncio.sleep(6)
    dashboard.resume()

    await dashboard.wait_for(count=50)
    await asyncio.sleep(0.3)
    assert [int(p) for p in dashboard.payloads()] == list(range(50))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# -- the mosquitto fixture -----------------------------------------------------------


async def test_mosquitto_killed_and_started_again_on_the_same_port_takes_its_clients_back(
    mosquitto: StartMosquitto, mqtt_clients: MakeClient
) -> None:
    broker = mosquitto()
    daemon = mqtt_clients(broker.url, "daemon")
    await daemon.connect()

    broker.kill()
    assert not broker.running
    await until(lambda: daemon.disconnects, what="the daemon to see the broker gone")
    assert not accepts_connections(broker.host, broker.port)

    port = broker.port
    broker.start()
    assert broker.port == port and broker.running
    await daemon.reconnected()
    await daemon.subscribe(f"{HALL}/#")
    await daemon.publish_acked(f"{HALL}/event/x", b"back")
    assert (await daemon.wait_for())[0].payload == b"back"
    assert broker.log().count("running") == 2


def test_mosquitto_says_why_it_would_not_start(mosquitto: StartMosquitto) -> None:
    with pytest.raises(RuntimeError, match="mosquitto exited") as failed:
        mosquitto("listener ${port} 127.0.0.1\nno_such_option true\n")
    assert "no_such_option" in str(failed.value)


# -- systemd/mosquitto: the hall's broker --------------------------------------------

USERS = {
    "hallkeeper": "daemon-pw",
    "monitor": "monitor-pw",
    "window-1-display": "display-1-pw",
    "window-2-display": "display-2-pw",
}


def adapted(text: str, lines: dict[str, str]) -> str:
    """`text` with the line of each directive replaced (each must be there once)."""
    for directive, line in lines.items():
        text, count = re.subn(rf"^{directive}\s.*$", line, text, flags=re.MULTILINE)
        assert count == 1, f"{directive} is not (once) in the config"
    return text


def passwords(path: Path, users: dict[str, str]) -> Path:
    binary = mosquitto_passwd_binary()
    if binary is None:
        pytest.skip("mosquitto_passwd is not installed (Debian's mosquitto package has it)")
    for index, (user, password) in enumerate(users.items()):
        create = ["-c"] if index == 0 else []
        subprocess.run([binary, *create, "-b", str(path), user, password], check=True)
    return path


def hall_config(folder: Path) -> str:
    """hall.conf and hall.acl as installed, but in `folder` and on a loopback port."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFIGS / "hall.acl", folder / "hall.acl")
    config = adapted(
        (CONFIGS / "hall.conf").read_text(encoding="utf-8"),
        {
            "listener": "listener ${port} 127.0.0.1",
            "password_file": f"password_file {passwords(folder / 'hall.passwd', USERS)}",
            "acl_file": f"acl_file {folder / 'hall.acl'}",
        },
    )
    # Debian's /etc/mosquitto/mosquitto.conf sets this one.
    return config + "\npersistence_location ${dir}/\n"


@pytest.fixture
def hall_broker(mosquitto: StartMosquitto, tmp_path: Path) -> Mosquitto:
    return mosquitto(hall_config(tmp_path / "hall"))


def as_user(user: str) -> dict[str, str]:
    return {"username": user, "password": USERS[user]}


async def test_the_hall_broker_refuses_anonymous_clients_and_wrong_passwords(
    hall_broker: Mosquitto, mqtt_clients: MakeClient
) -> None:
    anonymous = mqtt_clients(hall_broker.url, "anonymous", auto_reconnect=False)
    assert str(await anonymous.connect(expect_refusal=True)) == "Not authorized"
    wrong = mqtt_clients(
        hall_broker.url, "guess", username="hallkeeper", password="guess", auto_reconnect=False
    )
    refused = str(await wrong.connect(expect_refusal=True))
    assert refused in ("Not authorized", "Bad user name or password")
    daemon = mqtt_clients(hall_broker.url, "daemon", **as_user("hallkeeper"))
    assert not (await daemon.connect()).is_failure


async def test_the_daemon_publishes_its_hall_and_monitoring_only_reads(
    hall_broker: Mosquitto, mqtt_clients: MakeClient
) -> None:
    daemon = mqtt_clients(hall_broker.url, "daemon", **as_user("hallkeeper"))
    monitor = mqtt_clients(hall_broker.url, "monitor", **as_user("monitor"))
    display = mqtt_clients(hall_broker.url, "window-1-display", **as_user("window-1-display"))
    for client in (daemon, monitor, display):
        await client.connect()
    await monitor.subscribe("hallkeeper/#")
    await display.subscribe(f"{HALL}/device/window-1-display/set")

    await daemon.publish_acked(f"{HALL}/bridge/state", b'{"state":"online"}', retain=True)
    await daemon.publish_acked("hallkeeper/other-hall/event/x", b"not its hall")
    await monitor.publish_acked(f"{HALL}/device/window-1-display/set", b"from monitor")
    await daemon.publish_acked(f"{HALL}/device/window-1-display/set", b"from daemon")

    await monitor.wait_for(f"{HALL}/device/window-1-display/set")
    assert [m.topic for m in monitor.received()] == [
        f"{HALL}/bridge/state",
        f"{HALL}/device/window-1-display/set",
    ]
    await display.wait_for()
    assert display.payloads() == [b"from daemon"]


async def test_a_device_publishes_nothing_but_its_report_and_reads_only_its_commands(
    hall_broker: Mosquitto, mqtt_clients: MakeClient
) -> None:
    daemon = mqtt_clients(hall_broker.url, "daemon", **as_user("hallkeeper"))
    await daemon.connect()
    await daemon.subscribe(f"{HALL}/#")
    own = f"{HALL}/device/window-1-display"
    display = mqtt_clients(
        hall_broker.url,
        "window-1-display",
        will=(f"{own}/report", b'{"type":"gone"}', 1, False),
        auto_reconnect=False,
        **as_user("window-1-display"),
    )
    await display.connect()
    await display.subscribe(f"{HALL}/device/#")

    for topic in (
        f"{HALL}/device/window-2-display/report",  # another device's
        f"{own}/availability",  # the daemon's to say
        f"{own}/set",
        f"{HALL}/event/ticket-called",
        f"{HALL}/bridge/state",
    ):
        await display.publish_acked(topic, b"forged")
    await display.publish_acked(f"{own}/report", b'{"type":"hello"}')
    await daemon.publish_acked(f"{HALL}/device/window-2-display/set", b"for display 2")
    await daemon.publish_acked(f"{own}/set", b"for display 1")

    await daemon.wait_for(f"{own}/report")
    await display.wait_for()
    await asyncio.sleep(0.2)
    assert [(m.topic, m.payload) for m in daemon.received() if m.payload != b"for display 2"] == [
        (f"{own}/report", b'{"type":"hello"}'),
        (f"{own}/set", b"for display 1"),
    ]
    assert [(m.topic, m.payload) for m in display.received()] == [(f"{own}/set", b"for display 1")]

    # Its last will goes to its report topic, which it may write.
    await display.drop()
    messages = await daemon.wait_for(f"{own}/report", count=2)
    assert messages[-1].payload == b'{"type":"gone"}'


# -- systemd/mosquitto: the bridge to the city ---------------------------------------


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: it makes the city broker's test certificates")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "city-ca.crt", folder / "city-ca.key"
    cert, key, request = folder / "city.crt", folder / "city.key", folder / "city.csr"
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    signed = ["-CA", str(ca), "-CAkey", str(ca_key), "-extfile", str(folder / "san.ext")]
    for command in (
        [
            "req",
            "-x509",
            *new_key,
            "-days",
            "2",
            "-subj",
            "/CN=test city CA",
            "-keyout",
            str(ca_key),
            "-out",
            str(ca),
        ],
        ["req", *new_key, "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(request)],
        [
            "x509",
            "-req",
            "-in",
            str(request),
            *signed,
            "-days",
            "2",
            "-CAcreateserial",
            "-out",
            str(cert),
        ],
    ):
        subprocess.run([openssl, *command], check=True, capture_output=True)
    return ca, cert, key


async def test_the_city_bridge_forwards_the_hall_over_tls_and_catches_up_after_an_outage(
    mosquitto: StartMosquitto, mqtt_clients: MakeClient, tmp_path: Path
) -> None:
    ca, cert, key = certificates(tmp_path / "tls")
    city_users = {"hall-demo-hall": "city-pw", "dashboard": "dashboard-pw"}
    city = mosquitto(
        "listener ${port} 127.0.0.1\n"
        f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        f"allow_anonymous false\npassword_file {passwords(tmp_path / 'city.passwd', city_users)}\n"
        # The dashboard's session and subscription survive the city's restart.
        "persistence true\npersistence_location ${dir}/\n"
    )
    bridge = adapted(
        (CONFIGS / "city-bridge.conf").read_text(encoding="utf-8"),
        {
            "address": f"address 127.0.0.1:{city.port}",
            "remote_password": "remote_password city-pw",
            "bridge_cafile": f"bridge_cafile {ca}",
            "restart_timeout": "restart_timeout 1",  # retry at once, not after 5 s
        },
    )
    hall = mosquitto(hall_config(tmp_path / "hall") + "\n" + bridge)

    city_url = BrokerUrl(city.host, city.port, tls=True, ca_file=ca)
    dashboard = mqtt_clients(
        city_url, "dashboard", clean_session=False, username="dashboard", password="dashboard-pw"
    )
    await dashboard.connect()
    await dashboard.subscribe("hallkeeper/#")
    link = "hallkeeper/links/demo-hall/city"
    await until(lambda: dashboard.payloads(link)[-1:] == [b"1"], 10, "the link to say 1")

    daemon = mqtt_clients(hall.url, "daemon", **as_user("hallkeeper"))
    await daemon.connect()
    await daemon.publish_acked(f"{HALL}/device/kiosk-1/availability", b"online", retain=True)
    await daemon.publish_acked(f"{HALL}/event/ticket-issued", b"1")
    await dashboard.wait_for(f"{HALL}/event/ticket-issued")

    city.stop()
    for seq in (2, 3, 4):  # the hall goes on while the city is away
        await daemon.publish_acked(f"{HALL}/event/ticket-issued", str(seq))
    city.start()

    await dashboard.wait_for(f"{HALL}/event/ticket-issued", count=4, timeout=20)
    assert dashboard.payloads(f"{HALL}/event/ticket-issued") == [b"1", b"2", b"3", b"4"]
    assert dashboard.payloads(f"{HALL}/device/kiosk-1/availability")[:1] == [b"online"]
    await until(lambda: dashboard.payloads(link)[-1:] == [b"1"], 10, "the link to say 1 again")

    hall.kill()  # the city learns from the bridge's will
    await until(lambda: dashboard.payloads(link)[-1:] == [b"0"], 10, "the link to say 0")
