"""Prometheus metrics of the hall: counters and histograms fed by committed
events, the store's commits and the loop lag watcher; gauges and device, bus
and MQTT counters read off the running hall when scraped."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from daemon.hall import Hall
from daemon.queue.model import WindowStatus
from daemon.runtime import DaemonInfo
from daemon.store.store import EventRecord
from devices.health import DeviceState

MINUTE = 60.0
WAITING_BUCKETS = tuple(MINUTE * m for m in (1, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180))
SERVICE_BUCKETS = tuple(MINUTE * m for m in (1, 2, 5, 10, 15, 20, 30, 45, 60))
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class HallMetrics:
    def __init__(self, hall: Hall, info: DaemonInfo) -> None:
        self.registry = CollectorRegistry()
        self._events = Counter(
            "hallkeeper_events",
            "Hall events committed, by type.",
            ["type"],
            registry=self.registry,
        )
        self._waited = Histogram(
            "hallkeeper_waiting_seconds",
            "Time from joining a queue to being called.",
            ["service"],
            buckets=WAITING_BUCKETS,
            registry=self.registry,
        )
        self._served = Histogram(
            "hallkeeper_service_seconds",
            "Time at the window of completed tickets, held time excluded.",
            ["service"],
            buckets=SERVICE_BUCKETS,
            registry=self.registry,
        )
        self._issued = Counter(
            "hallkeeper_tickets_issued",
            "Tickets issued, by service.",
            ["service"],
            registry=self.registry,
        )
        self._calls = Counter(
            "hallkeeper_calls",
            "Tickets called (next, specific or back), by window and service.",
            ["window", "service"],
            registry=self.registry,
        )
        lag = Histogram(
            "hallkeeper_loop_lag_sample_seconds",
            "How late the event loop woke, sampled every half second.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        info.lag_observers.append(lag.observe)
        commits = Histogram(
            "hallkeeper_store_commit_seconds",
            "How long each store commit took, fsync included: every change waits for one.",
            buckets=COMMIT_BUCKETS,
            registry=self.registry,
        )
        hall.commit_timers.append(commits.observe)
        self.registry.register(_HallState(hall, info))
        self.registry.register(_Devices(info))
        self.registry.register(_Mqtt(hall, info))
        hall.subscribe(self.observe)

    def observe(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            self._events.labels(event.type).inc()
            doc = event.document
            if event.type == "ticket.issued":
                self._issued.labels(doc["service"]).inc()
            elif event.type == "ticket.called":
                self._calls.labels(str(doc["window"]), doc["service"]).inc()
                if doc.get("waited_seconds") is not None:
                    self._waited.labels(doc["service"]).observe(doc["waited_seconds"])
            elif event.type == "ticket.done":
                self._served.labels(doc["service"]).observe(doc["service_seconds"])

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _HallState(Collector):
    def __init__(self, hall: Hall, info: DaemonInfo) -> None:
        self._hall = hall
        self._info = info

    def collect(self) -> Iterator[Metric]:
        hall, state = self._hall, self._hall.committed
        waiting = GaugeMetricFamily(
            "hallkeeper_waiting", "Tickets waiting, by service.", labels=["service"]
        )
        issued = GaugeMetricFamily(
            "hallkeeper_issued_today", "Tickets issued this business day.", labels=["service"]
        )
        for service in hall.config.services:
            count = sum(state.waiting("service", service.id, p) for p in (True, False))
            waiting.add_metric([service.id], count)
            issued.add_metric([service.id], state.issued_today(service.id))
        windows = GaugeMetricFamily(
            "hallkeeper_window_status",
            "1 for the status each window is in.",
            labels=["window", "status"],
        )
        for number, window in sorted(state.windows.items()):
            for status in WindowStatus:
                windows.add_metric([str(number), status], float(window.status is status))
        devices = GaugeMetricFamily(
            "hallkeeper_devices", "Devices in each health state.", labels=["state"]
        )
        reported = [d.state for d in self._info.devices()]
        for device_state in DeviceState:
            devices.add_metric([device_state], reported.count(device_state))
        yield from (waiting, issued, windows, devices)
        yield GaugeMetricFamily(
            "hallkeeper_event_seq", "Seq of the last committed event.", value=hall.committed_seq
        )
        yield GaugeMetricFamily(
            "hallkeeper_pending_events",
            "Events planned, not yet durable.",
            value=hall.pending_events,
        )
        yield GaugeMetricFamily(
            "hallkeeper_store_ok",
            "0 after a failed store write.",
            value=float(hall.store_error is None),
        )
        yield GaugeMetricFamily(
            "hallkeeper_loop_lag_seconds",
            "How late the event loop woke.",
            value=self._info.loop_lag_ms / 1000,
        )


class _Devices(Collector):
    """Each device's state and counters, and each RS-485 bus's."""

    def __init__(self, info: DaemonInfo) -> None:
        self._info = info

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "hallkeeper_device_state",
            "1 for the health state each device is in.",
            labels=["device", "kind", "state"],
        )
        frames = CounterMetricFamily(
            "hallkeeper_device_frames",
            "Frames (commands, status answers, tickets) to and from each device.",
            labels=["device", "direction"],
        )
        errors = CounterMetricFamily(
            "hallkeeper_device_errors",
            "Unanswered commands and bad answers, by device.",
            labels=["device"],
        )
        reconnects = CounterMetricFamily(
            "hallkeeper_device_reconnects", "Link reopens, by device.", labels=["device"]
        )
        for device in self._info.devices():
            for device_state in DeviceState:
                state.add_metric(
                    [device.id, device.kind, device_state], float(device.state is device_state)
                )
            frames.add_metric([device.id, "out"], device.counters.frames_out)
            frames.add_metric([device.id, "in"], device.counters.frames_in)
            errors.add_metric([device.id], device.counters.errors)
            reconnects.add_metric([device.id], device.counters.reconnects)
        yield from (state, frames, errors, reconnects)
        up = GaugeMetricFamily(
            "hallkeeper_bus_up", "1 while the bus's port is open.", labels=["bus"]
        )
        bus_frames = CounterMetricFamily(
            "hallkeeper_bus_frames", "Frames on each RS-485 bus.", labels=["bus", "direction"]
        )
        bus_errors = CounterMetricFamily(
            "hallkeeper_bus_errors",
            "Garbled frames and frames from unknown addresses, by bus.",
            labels=["bus"],
        )
        reopens = CounterMetricFamily(
            "hallkeeper_bus_reopens", "Times each bus's port came back.", labels=["bus"]
        )
        low_latency = GaugeMetricFamily(
            "hallkeeper_bus_low_latency",
            "1 while the bus's port is in low-latency mode; 0 on an adapter that refused it "
            "(an FTDI then holds what it receives for 16 ms, and collisions grow).",
            labels=["bus"],
        )
        local_echo = GaugeMetricFamily(
            "hallkeeper_bus_local_echo",
            "1 while the bus's adapter is known to hand back what the daemon sends "
            "(its copies are dropped).",
            labels=["bus"],
        )
        for bus in self._info.buses():
            up.add_metric([bus.name], float(bus.up is True))
            bus_frames.add_metric([bus.name, "out"], bus.stats.frames_out)
            bus_frames.add_metric([bus.name, "in"], bus.stats.frames_in)
            bus_errors.add_metric([bus.name], bus.stats.errors)
            reopens.add_metric([bus.name], bus.reopens)
            low_latency.add_metric([bus.name], float(bus.link.low_latency))
            local_echo.add_metric([bus.name], float(bus.link.local_echo))
        yield from (up, bus_frames, bus_errors, reopens, low_latency, local_echo)


class _Mqtt(Collector):
    def __init__(self, hall: Hall, info: DaemonInfo) -> None:
        self._hall = hall
        self._info = info

    def collect(self) -> Iterator[Metric]:
        if self._info.mqtt_outbox is None:
            return
        outbox = self._info.mqtt_outbox()
        yield GaugeMetricFamily(
            "hallkeeper_mqtt_connected",
            "1 while the bridge is connected to its broker.",
            value=float(outbox["connected"]),
        )
        yield GaugeMetricFamily(
            "hallkeeper_mqtt_outbox_events",
            "Events stored but not yet acknowledged by the MQTT broker.",
            value=max(self._hall.committed_seq - outbox["acked"], 0),
        )
        yield GaugeMetricFamily(
            "hallkeeper_mqtt_in_flight",
            "Events published, awaiting the broker's acknowledgement.",
            value=outbox["in_flight"],
        )
