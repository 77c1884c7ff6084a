"""Prometheus metrics of the hall: counters and histograms fed by committed
events, gauges read off the hall's state when scraped."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from daemon.hall import Hall
from daemon.queue.model import WindowStatus
from daemon.runtime import DaemonInfo
from daemon.store.store import EventRecord
from devices.health import DeviceState

MINUTE = 60.0
WAITING_BUCKETS = tuple(MINUTE * m for m in (1, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180))
SERVICE_BUCKETS = tuple(MINUTE * m for m in (1, 2, 5, 10, 15, 20, 30, 45, 60))


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
        self.registry.register(_HallState(hall, info))
        hall.subscribe(self.observe)

    def observe(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            self._events.labels(event.type).inc()
            doc = event.document
            if event.type == "ticket.called" and doc.get("waited_seconds") is not None:
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
