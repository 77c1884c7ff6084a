"""Which MQTT broker the hall uses (`mqtt.broker`), and the one the daemon can
run itself.

`mqtt.broker` is one of:

- `embedded` (the default): `EmbeddedBroker`, an MQTT 3.1.1 broker in the
  daemon's own event loop, on 127.0.0.1 only, anonymous. Enough for a demo or
  a hall whose MQTT clients all run on the gateway PC.
- `mqtt://[user:password@]host[:port]` (port 1883): an external broker, such
  as the hall's mosquitto (systemd/mosquitto/).
- `mqtts://[user:password@]host[:port]` (port 8883): the same over TLS; the
  CA that signed the broker's certificate is `mqtt.ca_file` (none: the
  system's CAs).

User and password are percent-decoded (`%40` is `@`).

The embedded broker is amqtt's, with four fixes where amqtt 0.12 parts from
MQTT 3.1.1 in ways the hall would notice (see `_fixed_broker_class`).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import math
import re
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from amqtt.broker import Broker

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
EMBEDDED = "embedded"
FORMS = "embedded, mqtt://[user:password@]host[:port] or mqtts://[user:password@]host[:port]"

_HOSTNAME = re.compile(
    r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$"
)


@dataclass(frozen=True)
class BrokerUrl:
    """An external broker (or the embedded one, once it listens)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None

    @property
    def where(self) -> str:
        """The broker for logs and messages: never the password."""
        user = f"{self.username}@" if self.username is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"

    def __str__(self) -> str:
        return self.where


@dataclass(frozen=True)
class Embedded:
    """`mqtt.broker: embedded`: the daemon runs an `EmbeddedBroker`."""

    where = "the embedded broker"


def parse_broker(value: str, ca_file: Path | str | None = None) -> BrokerUrl | Embedded:
    """`mqtt.broker` (and `mqtt.ca_file`) as a broker; ValueError says what is wrong.

    Error messages quote the value with its password masked: they end up in
    logs and in `hallkeeper check-config` output.
    """
    if not isinstance(value, str):
        raise ValueError(f"mqtt.broker: expected text ({FORMS}), not {type(value).__name__}")
    text = value.strip()
    ca_path = Path(ca_file) if ca_file is not None and str(ca_file) != "" else None
    if text.lower() == EMBEDDED:
        if ca_path is not None:
            raise ValueError("mqtt.ca_file is for an mqtts:// broker, not the embedded one")
        return Embedded()
    if not text:
        raise ValueError(f"mqtt.broker: empty; expected {FORMS}")
    if "://" not in text:
        raise ValueError(f"mqtt.broker: {_masked(text)!r} is not {FORMS}")
    try:
        url = urlsplit(text)
    except ValueError as error:  # e.g. an unclosed "[" of an IPv6 address
        raise ValueError(f"mqtt.broker: {_masked(text)!r} is not a URL: {error}") from None
    shown = _masked(text)
    scheme = url.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"mqtt.broker: scheme {url.scheme!r} is not mqtt, mqtts or embedded")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError(f"mqtt.broker: {shown!r} has more than [user:password@]host[:port]")
    host = url.hostname or ""
    if not host:
        raise ValueError(f"mqtt.broker: no host in {shown!r}")
    if not _valid_host(host):
        raise ValueError(f"mqtt.broker: {host!r} in {shown!r} is not a host name or address")
    try:
        port = url.port
    except ValueError:
        port = -1
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif not 1 <= port <= 65535:
        given = url.netloc.rpartition(":")[2]
        raise ValueError(f"mqtt.broker: port {given!r} in {shown!r} is not from 1 to 65535")
    username = unquote(url.username) if url.username is not None else None
    password = unquote(url.password) if url.password is not None else None
    if password is not None and not username:
        raise ValueError(f"mqtt.broker: a password without a user name in {shown!r}")
    tls = scheme == "mqtts"
    if ca_path is not None and not tls:
        raise ValueError(f"mqtt.ca_file is for an mqtts:// broker; {shown!r} is not TLS")
    return BrokerUrl(host, port, tls, username, password, ca_path)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.match(host)) and len(host) <= 253
    return True


def _masked(text: str) -> str:
    """`text` with the password (if any) replaced by ***."""
    scheme, separator, rest = text.partition("://")
    if not separator:
        scheme, rest = "", text
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return text
    return f"{scheme}{separator}{userinfo.split(':', 1)[0]}:***@{host}"


# -- the embedded broker ---------------------------------------------------------------


SHUTDOWN_SECONDS = 5.0


class EmbeddedBroker:
    """An MQTT 3.1.1 broker on loopback, in the running event loop (amqtt).

    Anonymous: anyone who can reach it may publish and subscribe anything, so
    it listens on a loopback address only. QoS 0 and 1, retained messages and
    last wills; sessions live only while the broker runs (no persistence).
    `start()` again after `stop()` listens on the same port.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"the embedded MQTT broker allows anyone: loopback only, not {host!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is not from 0 (any free one) to 65535")
        self.host = host
        self._port = port
        self._broker: Broker | None = None

    @property
    def running(self) -> bool:
        return self._broker is not None

    @property
    def port(self) -> int:
        """The port it listens on (chosen at the first start when 0 was given)."""
        if self._port == 0:
            raise RuntimeError("the embedded MQTT broker has not started: no port yet")
        return self._port

    @property
    def url(self) -> BrokerUrl:
        """Where clients connect."""
        return BrokerUrl(self.host, self.port)

    async def start(self) -> None:
        """Listen; returns once clients can connect. OSError if the port is taken."""
        if self._broker is not None:
            raise RuntimeError("the embedded MQTT broker is already running")
        _quiet_amqtt()
        from amqtt.errors import BrokerError

        bind = f"[{self.host}]:{self._port}" if ":" in self.host else f"{self.host}:{self._port}"
        broker = _fixed_broker_class()(
            {
                "listeners": {"default": {"type": "tcp", "bind": bind}},
                # No $SYS plugin, no packet or event loggers: only anonymous access.
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
                },
            }
        )
        try:
            await broker.start()
        except BrokerError as error:
            cause = error.__cause__
            if isinstance(cause, OSError):
                raise OSError(
                    cause.errno, f"the embedded MQTT broker cannot listen on {bind}: {cause}"
                ) from error
            raise
        # amqtt has no public accessor for the bound socket; pinned to amqtt 0.12.
        server = broker._servers["default"].instance
        self._port = server.sockets[0].getsockname()[1]
        self._broker = broker
        log.info("embedded MQTT broker listening on %s", self.url.where)

    async def stop(self) -> None:
        """Close every client connection and the listening socket.

        amqtt's shutdown can wait for ever for a connection that is busy
        receiving (its reader task swallows the cancellation): the clients'
        TCP connections are cut first, and the shutdown gets a deadline."""
        broker, self._broker = self._broker, None
        if broker is None:
            return
        broker._servers["default"].instance.close()  # no new clients
        for _session, handler in list(broker._sessions.values()):
            writer = getattr(handler, "writer", None)
            transport = getattr(getattr(writer, "_writer", None), "transport", None)
            if transport is not None:
                transport.abort()
        try:
            await asyncio.wait_for(broker.shutdown(), SHUTDOWN_SECONDS)
        except TimeoutError:
            log.warning("the embedded MQTT broker took over %s s to shut down", SHUTDOWN_SECONDS)

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _quiet_amqtt() -> None:
    """amqtt logs every connection at info, and `transitions` (its state
    machines) every state change: keep both to warnings unless set already."""
    for name in ("amqtt", "transitions"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    # A TCP probe that connects and closes (a port check, a health check) is
    # logged by amqtt as an error; it is not one.
    broker_log = logging.getLogger("amqtt.broker")
    if not any(isinstance(f, _ProbeFilter) for f in broker_log.filters):
        broker_log.addFilter(_ProbeFilter())


class _ProbeFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        probe = message.startswith("No data from ") or (
            message.startswith("Failed to initialize client session") and "No data" in message
        )
        return not probe


@functools.cache
def _fixed_broker_class() -> type[Broker]:
    """amqtt's Broker with four departures from MQTT 3.1.1 fixed.

    1. Keep-alive: amqtt never drops a client that goes silent (a device whose
       power is cut sends no FIN), so its last will is never published
       (amqtt issue #308). Here a client that sends nothing for 1.5 times its
       keep-alive is dropped and its will published [MQTT-3.1.2-24].
    2. Retained messages: on CONNECT amqtt sends the new client the retained
       messages matching every other client's subscriptions, at QoS 0, before
       it subscribed to anything. Here a client gets retained messages only for
       its own subscriptions [MQTT-3.3.1-6].
    3. Client-id take-over with a clean session: amqtt forgets the old session
       but leaves its connection open (it even outlives the broker's
       shutdown), and publishes its will whenever that connection dies later,
       possibly long after the client is back. Here the old connection is
       closed at once, as mosquitto does [MQTT-3.1.4-2].
    4. QoS 1 to a subscriber: amqtt gives up on a PUBACK after 5 s, logging a
       warning and an error with a traceback per message, and then warns
       again when the PUBACK comes (a subscriber more than 5 s behind, say
       after a burst of events); it also waits for the PUBACK only once the
       PUBLISH is written, so a quick PUBACK can come before anyone waits.
       Here the broker waits from before it writes, for as long as the
       connection lives (the keep-alive ends dead ones).

    These override private methods of amqtt 0.12, hence the pin to < 0.13;
    tests/daemon/mqtt/test_brokers.py checks each.
    """
    from amqtt.broker import Broker
    from amqtt.errors import ProtocolHandlerError
    from amqtt.mqtt.constants import QOS_1
    from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
    from amqtt.session import OUTGOING, ApplicationMessage, Session

    async def qos1_flow(handler: BrokerProtocolHandler, message: ApplicationMessage) -> None:
        """amqtt's _handle_qos1_message_flow for a PUBLISH to a client, fixed (4)."""
        session = handler.session
        packet_id = message.packet_id
        if (
            message.direction != OUTGOING
            or message.qos != QOS_1
            or packet_id is None
            or message.puback_packet is not None
            or session is None
        ):
            try:
                await BrokerProtocolHandler._handle_qos1_message_flow(handler, message)  # type: ignore[arg-type]
            except ProtocolHandlerError as error:
                if isinstance(error.__cause__, asyncio.CancelledError):
                    # a connection cut at shutdown: cancelled, not failed
                    raise asyncio.CancelledError from error
                raise
            return
        session.inflight_out.setdefault(packet_id, message)  # type: ignore[arg-type]
        packet = message.build_publish_packet(dup=message.publish_packet is not None)
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        handler._puback_waiters[packet_id] = waiter
        try:
            await handler._send_packet(packet)
            message.publish_packet = packet
            message.puback_packet = await waiter  # cancelled when the connection ends
        finally:
            handler._puback_waiters.pop(packet_id, None)
            session.inflight_out.pop(packet_id, None)

    class FixedBroker(Broker):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._keep_alive_closers: set[asyncio.Task[None]] = set()

        async def _initialize_client_session(
            self, *args: Any, **kwargs: Any
        ) -> tuple[BrokerProtocolHandler, Session]:
            handler, session = await super()._initialize_client_session(*args, **kwargs)
            # Instance attributes, so amqtt's own calls reach them.
            handler._handle_qos1_message_flow = types.MethodType(qos1_flow, handler)  # type: ignore[method-assign]
            if session.keep_alive > 0:
                # The handler waits this long for each packet, then calls
                # handle_read_timeout (a no-op in amqtt).
                session.keep_alive = math.ceil(session.keep_alive * 1.5)
                handler.handle_read_timeout = functools.partial(  # type: ignore[method-assign]
                    self._keep_alive_expired, handler, session
                )
            return handler, session

        def _keep_alive_expired(self, handler: BrokerProtocolHandler, session: Session) -> None:
            log.info(
                "embedded MQTT broker: %s sent nothing for %d s; dropping it",
                session.client_id,
                session.keep_alive,
            )
            task = asyncio.ensure_future(handler.handle_connection_closed())
            self._keep_alive_closers.add(task)
            task.add_done_callback(self._keep_alive_closers.discard)

        async def _publish_retained_messages_for_subscription(
            self, subscription: tuple[str, int], session: Session
        ) -> None:
            subscribers = self._subscriptions.get(subscription[0], ())
            if any(subscriber.client_id == session.client_id for subscriber, _ in subscribers):
                await super()._publish_retained_messages_for_subscription(subscription, session)

        async def _delete_session(self, client_id: str) -> None:
            session, handler = self._sessions.get(client_id, (None, None))
            if session is not None and handler is not None and session.transitions.is_connected():
                # What amqtt does on a take-over of a persistent session: the old
                # connection ends as if lost (its will is published) and closes.
                await handler.handle_connection_closed()
                await handler.stop()
            await super()._delete_session(client_id)

    return FixedBroker
