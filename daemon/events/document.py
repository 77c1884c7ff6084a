"""Event documents: what every consumer of the hall's events receives."""

from __future__ import annotations

from daemon.queue.model import DomainEvent
from daemon.store.store import EventRecord

RESERVED = ("type", "hall", "seq", "at")


def event_record(hall: str, seq: int, event: DomainEvent) -> EventRecord:
    """The stored form of an event: `type`, `hall`, gap-free `seq`, `at` with
    the hall's UTC offset, then the event's own fields."""
    at = event.at.isoformat(timespec="milliseconds")
    clash = set(RESERVED) & set(event.fields)
    if clash:
        raise ValueError(f"event {event.type} uses reserved field(s) {sorted(clash)}")
    document = {"type": event.type, "hall": hall, "seq": seq, "at": at, **event.fields}
    return EventRecord(seq=seq, type=event.type, at=at, document=document)
