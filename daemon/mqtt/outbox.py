"""Which events the broker has: the bookkeeping behind "every event since the
last one the broker acknowledged is delivered, in seq order, none skipped".

Events are published in seq order with QoS 1. The broker acknowledges each
(PUBACK), not necessarily in order; `acked` advances only over a run of
acknowledged seqs without a gap, and is what survives a restart. After a
disconnect everything after `acked` is sent again, so a subscriber may see
an event twice (it dedupes by seq) but never misses one.
"""

from __future__ import annotations


class Outbox:
    def __init__(self, acked: int) -> None:
        self.acked = acked  # every event up to this seq is with the broker
        self.sent = acked  # the last seq handed to the MQTT client
        self._in_flight: dict[int, int] = {}  # message id -> seq
        self._done: set[int] = set()  # seqs acknowledged out of order

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def published(self, seq: int, mid: int) -> None:
        if seq != self.sent + 1:
            raise ValueError(f"event {seq} published after {self.sent}: events go in seq order")
        self.sent = seq
        self._in_flight[mid] = seq

    def acknowledged(self, mid: int) -> bool:
        """The broker has message `mid`; True if `acked` moved."""
        seq = self._in_flight.pop(mid, None)
        if seq is None:
            return False  # from a session before a reconnect
        self._done.add(seq)
        before = self.acked
        while self.acked + 1 in self._done:
            self.acked += 1
            self._done.discard(self.acked)
        return self.acked != before

    def lost_connection(self) -> None:
        """Whatever was not acknowledged goes again, from just after `acked`."""
        self._in_flight.clear()
        self._done.clear()
        self.sent = self.acked
