"""What the navigator's parts share while it runs, in one explicit object instead of node attributes.

The camera callback, the control tick and the worker lanes meet here: `lock` guards the fields
two threads touch (the latest frame, the obstacle points and the receive times); the outages
and `faults` carry their own locks. `NodeTime` is the node clock as the parts need it.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from lingnav_core.camera import Intrinsics
from lingnav_ros.control.types import Command
from lingnav_ros.nodes.navigator.sensor_checks import SensorFaults
from lingnav_ros.nodes.navigator.server_outage import ServerOutage
from lingnav_ros.perception.rgbd_frame import RgbdFrame
from lingnav_ros.stamps import NS_PER_S, stamp_to_s


@dataclass
class Rates:
    """Event counter over a sliding window, for diagnostics."""

    window_s: float = 5.0

    def __post_init__(self) -> None:
        self.times: deque[float] = deque(maxlen=2000)

    def tick(self, t: float) -> None:
        self.times.append(t)

    def hz(self, now: float) -> float:
        recent = [t for t in self.times if now - t <= self.window_s]
        return len(recent) / self.window_s if recent else 0.0


class NavigatorStats:
    """Measurements the diagnostics and bench/control_loop.py read."""

    def __init__(self) -> None:
        self.control_wall_times: deque[float] = deque(maxlen=20000)
        self.control_compute_s: deque[float] = deque(maxlen=20000)
        self.plan_to_cmd_latency_s: deque[float] = deque(maxlen=2000)
        self.s1_wall_s: deque[float] = deque(maxlen=2000)
        self.s2_wall_s: deque[float] = deque(maxlen=2000)
        self.frames = Rates()
        self.odom = Rates()
        self.cmds_published = 0


class NodeTime:
    """The node clock (use_sim_time, bag replay) in the two forms the parts use."""

    def __init__(self, clock) -> None:
        self._clock = clock

    def now_s(self) -> float:
        return self._clock.now().nanoseconds / NS_PER_S

    def now_msg(self):
        return self._clock.now().to_msg()

    def stamp_or_now(self, stamp) -> float:
        """A header stamp in seconds; a zero stamp (a driver that sets none) means "now"."""
        t = stamp_to_s(stamp)
        return t if t > 0.0 else self.now_s()


@dataclass
class NavigatorState:
    s2_outage: ServerOutage
    s1_outage: ServerOutage
    stats: NavigatorStats = field(default_factory=NavigatorStats)
    faults: SensorFaults = field(default_factory=SensorFaults)
    lock: threading.Lock = field(default_factory=threading.Lock)
    latest_frame: RgbdFrame | None = None
    obstacles_odom: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    depth_rx_s: float | None = None
    odom_rx_s: float | None = None
    camera_info: Intrinsics | None = None
    hold_reason: str = ""
    mount_warning: str = ""  # the camera mount self-check's finding while it disagrees
    last_cmd: Command = field(default_factory=lambda: Command(0.0, 0.0))
    pending_plan_stamp: float | None = None  # the plan whose first command's latency is measured
    s1_error: str = ""
    s2_error: str = ""
    s2_health: str = "unknown"
    s1_health: str = "unknown"

    @classmethod
    def for_outage_timeout(cls, server_outage_timeout_s: float) -> NavigatorState:
        return cls(ServerOutage("S2", server_outage_timeout_s), ServerOutage("S1", server_outage_timeout_s))
