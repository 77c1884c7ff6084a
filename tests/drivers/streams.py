"""What every decoder test does with a byte stream: feed it cut anywhere,
join the garbage errors that come per feed, and damage it at random."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Protocol

from hypothesis import strategies as st

from drivers.codec import FrameError


class Feedable(Protocol):
    def feed(self, data: bytes) -> list[Any]: ...


def feed_chunks(decoder: Feedable, stream: bytes, cuts: Sequence[int]) -> list[Any]:
    """Feed ``stream`` cut at the given offsets, collecting everything decoded."""
    items: list[Any] = []
    edges = [0, *sorted(cuts), len(stream)]
    for begin, end in itertools.pairwise(edges):
        items += decoder.feed(stream[begin:end])
    return items


def merged(items: list[Any]) -> list[Any]:
    """``items`` with consecutive garbage errors joined: garbage is reported per feed call."""
    out: list[Any] = []
    for item in items:
        last = out[-1] if out else None
        if (
            isinstance(item, FrameError)
            and isinstance(last, FrameError)
            and item.reason == last.reason == "garbage"
        ):
            out[-1] = FrameError("garbage", last.data + item.data)
        else:
            out.append(item)
    return out


edits = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete"]), st.integers(0, 10_000), st.integers(1, 255)
    ),
    max_size=4,
)


def apply_edits(stream: bytes, changes: list[tuple[str, int, int]]) -> bytes:
    """``stream`` with bytes flipped, inserted and deleted as ``edits`` drew."""
    data = bytearray(stream)
    for kind, where, value in changes:
        at = where % (len(data) + 1)
        if kind == "insert":
            data.insert(at, value)
        elif at < len(data):
            if kind == "flip":
                data[at] ^= value
            else:
                del data[at]
    return bytes(data)
