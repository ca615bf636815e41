"""Pair RGB and depth images taken at (about) the same time.

On a robot `message_filters.ApproximateTimeSynchronizer` does it. message_filters is not on PyPI,
so where it is missing (or LINGNAV_FORCE_FALLBACKS=1, see lingnav_ros.fallbacks) a small
equivalent with the same two knobs (queue size, slop) takes over. Both are built by
`make_rgbd_sync`, which the navigator node calls with its subscription arguments; the pairing
logic itself (`ApproxTimePairer`) is plain Python and unit-tested.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from lingnav_ros.fallbacks import optional_module
from lingnav_ros.stamps import stamp_to_s


def message_filters_available() -> bool:
    """True when make_rgbd_sync will use message_filters (installed and not forced off)."""
    return optional_module("message_filters") is not None


class ApproxTimePairer:
    """Emits (rgb, depth) when the two streams hold messages within `slop_s` of each other.

    The closest partner in the other queue is taken; both queues then drop everything up to the
    matched stamps, so a message is used once and pairs come out in time order. Each queue keeps
    at most `queue_size` messages, like message_filters.
    """

    def __init__(self, queue_size: int, slop_s: float, callback: Callable[[Any, Any], None]) -> None:
        if queue_size < 1 or slop_s < 0:
            raise ValueError("queue_size must be >= 1 and slop_s >= 0")
        self.slop_s = slop_s
        self.callback = callback
        self._queues: tuple[deque, deque] = (deque(maxlen=queue_size), deque(maxlen=queue_size))
        self._lock = threading.Lock()
        self.pairs_emitted = 0

    def add(self, index: int, msg: Any, stamp_s: float) -> None:
        """index 0 = RGB, 1 = depth."""
        with self._lock:
            other = self._queues[1 - index]
            best = None
            for j, (t, m) in enumerate(other):
                dt = abs(t - stamp_s)
                if dt <= self.slop_s and (best is None or dt < best[0]):
                    best = (dt, j, t, m)
            if best is None:
                self._queues[index].append((stamp_s, msg))
                return
            _, j, t_other, m_other = best
            for _ in range(j + 1):
                other.popleft()
            mine = self._queues[index]
            while mine and mine[0][0] <= stamp_s:
                mine.popleft()
            pair = (msg, m_other) if index == 0 else (m_other, msg)
            self.pairs_emitted += 1
        self.callback(*pair)


class RgbdSync:
    """Subscriptions for RGB + depth delivering approximately synchronised pairs."""

    def __init__(self, backend: str, handles: list[Any], pairer: ApproxTimePairer | None = None) -> None:
        self.backend = backend  # 'message_filters' | 'fallback'
        self.handles = handles
        self.pairer = pairer


def make_rgbd_sync(node, *, rgb_type, rgb_topic: str, depth_type, depth_topic: str, qos, queue_size: int,
                   slop_s: float, callback: Callable[[Any, Any], None], callback_group=None,
                   prefer_message_filters: bool = True) -> RgbdSync:
    """Subscribe both streams on `node`; `callback(rgb_msg, depth_msg)` gets the pairs."""
    message_filters = optional_module("message_filters") if prefer_message_filters else None
    if message_filters is not None:
        kwargs = {"qos_profile": qos}
        if callback_group is not None:
            kwargs["callback_group"] = callback_group
        rgb_sub = message_filters.Subscriber(node, rgb_type, rgb_topic, **kwargs)
        depth_sub = message_filters.Subscriber(node, depth_type, depth_topic, **kwargs)
        sync = message_filters.ApproximateTimeSynchronizer([rgb_sub, depth_sub], queue_size, slop_s)
        sync.registerCallback(callback)
        return RgbdSync("message_filters", [rgb_sub, depth_sub, sync])
    pairer = ApproxTimePairer(queue_size, slop_s, callback)
    rgb_sub = node.create_subscription(
        rgb_type, rgb_topic, lambda m: pairer.add(0, m, stamp_to_s(m.header.stamp)), qos,
        callback_group=callback_group)
    depth_sub = node.create_subscription(
        depth_type, depth_topic, lambda m: pairer.add(1, m, stamp_to_s(m.header.stamp)), qos,
        callback_group=callback_group)
    return RgbdSync("fallback", [rgb_sub, depth_sub], pairer)
