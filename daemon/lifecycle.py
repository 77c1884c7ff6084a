"""Running the daemon: store, hall, event feed and API in one asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from daemon.api.app import create_app
from daemon.config.model import HallConfig
from daemon.events.zmq_feed import ZmqFeed
from daemon.hall import Hall
from daemon.hardware import Hardware
from daemon.mqtt.service import MqttService, start_mqtt
from daemon.printing import Spooler
from daemon.reload import Reloader
from daemon.router import Router
from daemon.runtime import DaemonInfo
from daemon.sd_notify import Notifier
from daemon.simulation import (
    link_specs,
    overrides,
    printer_specs,
    reader_specs,
    sim_folder,
    terminal_specs,
)
from daemon.status_socket import StatusSocket, hall_status, status_socket_path
from daemon.store.checkpoints import Checkpointer
from daemon.store.store import Store
from daemon.supervisor import Supervisor
from daemon.tokens import Role, TokenFile
from daemon.voice.announcer import Announcer
from devices.bus_device import DeviceContext
from simulators.control import default_endpoint
from simulators.hall import SimulatedHall

log = logging.getLogger(__name__)

DEMO_TOKEN_LABEL = "demo (hallkeeper run --simulate)"
STOP_REQUESTS_SECONDS = 3  # at a stop, requests still running after this are cut off


class StartupError(Exception):
    """The daemon cannot start; the message says what to change."""


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop; the daemon, not uvicorn, handles signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_daemon(
    config: HallConfig,
    simulate: bool = False,
    config_path: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run the hall until SIGTERM or SIGINT; SIGHUP reloads the devices from
    `config_path`. With `simulate`, a simulator stands behind every link,
    driven through the simulator control endpoint. `on_ready` is called once
    the hall is up and the API serves."""
    tokens = TokenFile(config.secrets)
    tokens.ensure_exists()
    with contextlib.ExitStack() as closing:
        simulated = None
        if simulate:
            simulated = SimulatedHall(
                link_specs(config),
                sim_folder(config),
                default_endpoint(),
                printers=printer_specs(config),
                readers=reader_specs(config),
                terminals=terminal_specs(config),
            )
            simulated.start()
            closing.callback(simulated.stop)
        store = Store(config.storage.path, config.hall.id)
        closing.callback(store.close)
        closing.callback(Checkpointer(store.path).start().stop)
        feed = ZmqFeed(config.events.zmq_pub) if config.events.zmq_pub else None
        if feed is not None:
            closing.callback(feed.close)
        await _run_hall(config, store, feed, tokens, simulated, config_path, on_ready)


async def _run_hall(
    config: HallConfig,
    store: Store,
    feed: ZmqFeed | None,
    tokens: TokenFile,
    simulated: SimulatedHall | None,
    config_path: Path | None,
    on_ready: Callable[[], None] | None,
) -> None:
    hall = Hall(config, store)
    router = Router(hall)
    context = DeviceContext(
        asyncio.get_running_loop(), hall.now, router.handle, config.texts, config.hall.languages[0]
    )
    simulators = overrides(simulated, sim_folder(config)) if simulated else None
    hardware = Hardware(config, context, simulators)
    spooler = Spooler(hall, hardware.printers)
    announcer = Announcer(hall, hardware.speakers)
    info = DaemonInfo(
        started_at=dt.datetime.now(config.hall.zone),
        feed=feed,
        devices=hardware.health,
        buses=hardware.bus_masters,
    )
    info.voice = ", ".join(f"{s.id} {s.sink.where}" for s in hardware.speakers) or None
    if feed is not None:
        hall.subscribe(feed.publish)
    lag = asyncio.create_task(info.watch_loop_lag(), name="loop-lag")
    supervisor = Supervisor(Notifier(), info)
    supervisor.start()
    status = StatusSocket(status_socket_path(config.storage.path), lambda: hall_status(hall, info))
    mqtt: MqttService | None = None
    reloader: Reloader | None = None
    try:
        await hall.start()
        if simulated is not None:
            await _sign_in_a_clerks(hall)
            await _enrol_simulated_fingers(hall, simulated)
        hardware.start()
        router.start(hardware)
        spooler.start()
        announcer.start()
        mqtt = await start_mqtt(config, hall, info, hardware.mqtt_devices)
        app = create_app(hall, tokens, info, spooler, hardware.readers, hardware.adms, announcer)
        server = EmbeddedServer(
            uvicorn.Config(
                app,
                host=config.api.host,
                port=config.api.port,
                lifespan="off",
                http="httptools",
                access_log=False,
                log_level="warning",
                timeout_graceful_shutdown=STOP_REQUESTS_SECONDS,
            )
        )
        reloader = Reloader(
            config_path, hardware, hall, router, spooler, info, app, mqtt, supervisor, announcer
        )
        await status.start()
        demo_tokens = tokens if simulated is not None else None
        await _serve(server, info, config, demo_tokens, supervisor, reloader, on_ready)
    finally:
        lag.cancel()
        supervisor.stopping()
        await status.stop()
        if reloader is not None:
            await reloader.finish()
            hardware = reloader.hardware
        if mqtt is not None:
            await mqtt.stop()
        await hardware.stop()  # the frame and the ticket in progress are finished
        await spooler.drain()  # and their results stored
        await router.drain()
        await announcer.drain()
        await hall.stop()


async def _sign_in_a_clerks(hall: Hall) -> None:
    """In a simulated hall, each window's A clerk is at work, as if signed in
    by fingerprint, so the keypads work from the start."""
    for window in hall.config.windows:
        state = hall.committed.windows[window.number]
        clerk = window.clerks.a if window.clerks else None
        if clerk and state.clerk is None and hall.committed.clerk_window(clerk) is None:
            await hall.perform(hall.engine.sign_in, window.number, clerk)


async def _enrol_simulated_fingers(hall: Hall, simulated: SimulatedHall) -> None:
    """In a simulated hall every staff member has a finger on every reader, so
    `hallkeeper sim finger READER STAFF` works at once; the simulated modules
    get the templates the hall's records name."""
    for spec in reader_specs(hall.config):
        fingerprints = hall.committed.fingerprints.items()
        own = {page: staff for (reader, page), staff in fingerprints if reader == spec.id}
        missing = [m.id for m in hall.config.staff if m.id not in own.values()]
        free = [page for page in range(spec.capacity) if page not in own]
        for staff, page in zip(missing, free, strict=False):  # as many as there is room for
            await hall.perform(hall.attendance.enroll, spec.id, page, staff)
    for (reader, page), staff in hall.committed.fingerprints.items():
        simulated.reader(reader).enroll(page, staff)


async def _serve(
    server: EmbeddedServer,
    info: DaemonInfo,
    config: HallConfig,
    demo_tokens: TokenFile | None,
    supervisor: Supervisor,
    reloader: Reloader,
    on_ready: Callable[[], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reloader.request)
    serving = asyncio.create_task(server.serve(sockets=[_listen(config)]), name="api")
    while not server.started:
        if serving.done():
            await serving
            raise StartupError("the API stopped while starting; the reason is logged above")
        await asyncio.sleep(0.01)
    info.state = "running"
    _announce(server, info, config, demo_tokens)
    supervisor.ready()
    if on_ready is not None:
        on_ready()
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
    info.state = "stopping"
    supervisor.stopping()
    log.info("stopping")
    server.should_exit = True
    await serving
    stopped.cancel()


def _listen(config: HallConfig) -> socket.socket:
    """The API's listening socket, bound here so that a taken port is a clear
    error rather than uvicorn exiting the process."""
    try:
        family = socket.AF_INET6 if ":" in config.api.host else socket.AF_INET
        return socket.create_server((config.api.host, config.api.port), family=family)
    except OSError as exc:
        raise StartupError(
            f"the API cannot listen on {config.api.host}:{config.api.port} "
            f"(api.host, api.port in the config): {exc.strerror or exc}"
        ) from exc


def _announce(
    server: EmbeddedServer, info: DaemonInfo, config: HallConfig, demo_tokens: TokenFile | None
) -> None:
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    base = f"http://{host}:{port}"
    lines = [
        f"hallkeeper {info.version}: hall {config.hall.id} is running",
        f"  API     {base}/api/v1",
        f"  docs    {base}/docs",
        f"  events  {info.feed.endpoint if info.feed else 'off'} (ZeroMQ PUB)",
        f"  mqtt    {info.mqtt or 'off'}",
        f"  voice   {info.voice or 'off'}",
        f"  store   {config.storage.path}",
    ]
    if demo_tokens is not None:
        lines.append(f"  admin token for this demo: {_demo_token(demo_tokens)}")
    print("\n".join(lines), flush=True)


def _demo_token(tokens: TokenFile) -> str:
    """A fresh admin token for a simulated hall; the previous demo token is revoked."""
    for entry in tokens.entries():
        if entry.label == DEMO_TOKEN_LABEL:
            tokens.revoke(entry.id)
    return tokens.add(Role.ADMIN, label=DEMO_TOKEN_LABEL)[1]
