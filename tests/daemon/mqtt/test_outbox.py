from __future__ import annotations

import pytest

from daemon.mqtt.outbox import Outbox


def test_acked_advances_over_runs_without_gaps() -> None:
    box = Outbox(acked=10)
    for seq, mid in ((11, 1), (12, 2), (13, 3)):
        box.published(seq, mid)
    assert not box.acknowledged(2)  # 11 is still out
    assert box.acked == 10
    assert box.acknowledged(1)
    assert box.acked == 12
    assert box.acknowledged(3) and box.acked == 13 and box.in_flight == 0


def test_after_a_lost_connection_everything_unacknowledged_goes_again() -> None:
    box = Outbox(acked=0)
    for seq in (1, 2, 3):
        box.published(seq, seq + 100)
    box.acknowledged(101)
    box.acknowledged(103)
    box.lost_connection()
    assert (box.acked, box.sent, box.in_flight) == (1, 1, 0)
    assert not box.acknowledged(103), "an ack from the old session changes nothing"
    box.published(2, 7)
    assert box.acknowledged(7) and box.acked == 2


def test_events_go_in_seq_order() -> None:
    box = Outbox(acked=5)
    with pytest.raises(ValueError, match="seq order"):
        box.published(7, 1)
