"""The ZeroMQ PUB feed of hall events: multipart [topic, json], topic = event type.

Subscribers filter by prefix: b"ticket." gets every ticket event, b"" all.
PUB never blocks the loop: a subscriber too slow to keep up loses messages
at the high-water mark, silently, and catches up from
GET /api/v1/events?after=SEQ, since every event carries its gap-free seq.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import zmq

from daemon.store.store import EventRecord

HIGH_WATER_MARK = 100_000


class FeedError(Exception):
    pass


class ZmqFeed:
    def __init__(self, endpoint: str) -> None:
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.PUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SNDHWM, HIGH_WATER_MARK)
        try:
            self._socket.bind(endpoint)
        except zmq.ZMQError as exc:
            self.close()
            raise FeedError(
                f"cannot bind the event feed to {endpoint} (events.zmq_pub): {exc}"
            ) from exc
        self.endpoint: str = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.published = 0

    def publish(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            self._socket.send_multipart([event.type.encode(), event.json.encode()])
            self.published += 1

    def health(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "published": self.published}

    def close(self) -> None:
        self._socket.close(linger=0)
        self._context.term()
