"""The ZeroMQ event feed, read by a real SUB socket."""

from __future__ import annotations

import json
import time

import pytest
import zmq

from daemon.events.zmq_feed import FeedError, ZmqFeed
from daemon.store.store import EventRecord


def record(seq: int, type_: str) -> EventRecord:
    at = "2026-11-25T09:00:00.000+08:00"
    doc = {"type": type_, "hall": "test-hall", "seq": seq, "at": at, "ticket": f"A{seq:03d}"}
    return EventRecord(seq, type_, at, doc)


@pytest.fixture
def feed() -> ZmqFeed:
    f = ZmqFeed("tcp://127.0.0.1:*")
    yield f
    f.close()


def subscriber(feed: ZmqFeed, prefix: bytes) -> tuple[zmq.Context, zmq.Socket]:
    """A SUB socket that is known to receive: probes until one arrives (ZeroMQ
    drops what is published before a subscription has reached the publisher)."""
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"probe")
    sub.setsockopt(zmq.SUBSCRIBE, prefix)
    sub.connect(feed.endpoint)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        feed.publish([record(0, "probe")])
        if sub.poll(50):
            while sub.poll(50):
                sub.recv_multipart()
            return context, sub
    raise AssertionError("the subscription never reached the feed")


def test_events_arrive_as_topic_and_json_in_order(feed: ZmqFeed) -> None:
    context, sub = subscriber(feed, b"ticket.")
    try:
        feed.publish(
            [record(1, "ticket.issued"), record(2, "window.state"), record(3, "ticket.called")]
        )
        received = [sub.recv_multipart() for _ in range(2)]
        assert [topic for topic, _ in received] == [b"ticket.issued", b"ticket.called"]
        documents = [json.loads(body) for _, body in received]
        assert [d["seq"] for d in documents] == [1, 3]
        assert documents[0]["ticket"] == "A001" and documents[0]["hall"] == "test-hall"
        assert not sub.poll(100)  # window.state was filtered out by the prefix
    finally:
        sub.close()
        context.term()


def test_a_taken_endpoint_names_the_config_key(feed: ZmqFeed) -> None:
    with pytest.raises(FeedError, match=r"events\.zmq_pub"):
        ZmqFeed(feed.endpoint)
