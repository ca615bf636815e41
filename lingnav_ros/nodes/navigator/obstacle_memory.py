"""The navigator's obstacle memory: one rolling local map (perception/local_map.py) fed by every
depth frame, read by the collision monitor and the S1 veto, shared with the mission's dead-end
memory (visited cells) and published as nav_msgs/OccupancyGrid for RViz.

The camera callback writes it and the control tick and the S1 lane read it, so every access goes
through `self.lock`; an update costs a few milliseconds, never a control period.
"""
from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np
from nav_msgs.msg import OccupancyGrid
from std_msgs.msg import Header

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_core.s1_plan import S1Plan
from lingnav_ros.control.types import Pose2D
from lingnav_ros.nodes.navigator.settings import MapSettings
from lingnav_ros.nodes.navigator.state import NodeTime
from lingnav_ros.perception.exploration_map import ExplorationMap
from lingnav_ros.perception.local_map import LocalMap
from lingnav_ros.safety.collision import CollisionMonitor, CollisionVerdict
from lingnav_ros.safety.map_veto import veto_plan
from lingnav_ros.stamps import seconds_to_ns


class MapMemory:
    def __init__(self, settings: MapSettings, time: NodeTime, logger, pub=None) -> None:
        """`pub`: the OccupancyGrid publisher (wiring creates it only when the map is enabled)."""
        self.enabled = settings.enabled
        self.veto_enabled = settings.veto_enabled
        self.odom_frame = settings.odom_frame
        self.time = time
        self.log = logger
        self.lock = threading.Lock()
        self.map = LocalMap(settings.local_map)
        self.exploration = ExplorationMap()  # what the camera has seen, for the search (same lock)
        self.veto_config = settings.veto
        self.update_s: deque[float] = deque(maxlen=200)
        self.last_veto = ""
        self.error = ""
        self.pub = pub if self.enabled else None

    # ------------------------------------------------------------------ in
    def on_depth(self, depth_m: np.ndarray, intr: Intrinsics, mount: CameraMount, pose: Pose2D,
                 stamp_s: float) -> None:
        """Fuse a depth frame taken from `pose` (odom at the depth stamp); remember the visit."""
        if not self.enabled:
            return
        t0 = time.perf_counter()
        stamp_ns = seconds_to_ns(stamp_s)
        try:
            with self.lock:
                self.map.update(depth_m, intr, mount, pose, stamp_ns)
                self.map.mark_visited(pose.x_m, pose.y_m, stamp_ns)
                self.exploration.update(depth_m, intr, mount, pose)
            self.error = ""
        except ValueError as exc:  # a bad frame is skipped with a reason, the memory stays
            self.error = f"local map: {exc}"
            self.log.warning(self.error, throttle_duration_sec=5.0)
        self.update_s.append(time.perf_counter() - t0)

    def on_peer(self, footprint_xy: np.ndarray, radius_m: float, stamp_s: float, wait_for: bool) -> None:
        """A fleet peer covers these disks (odom) now (perception/fleet_peers.py)."""
        if not self.enabled:
            return
        with self.lock:
            self.map.mark_peer(footprint_xy, radius_m, seconds_to_ns(stamp_s), wait_for)

    # ------------------------------------------------------------------ out
    def check(self, monitor: CollisionMonitor, predicted: np.ndarray, obstacles: np.ndarray,
              target_xy: tuple[float, float] | None, now_s: float) -> CollisionVerdict:
        """The collision verdict on this frame's obstacles plus what the map remembers."""
        if not self.enabled:
            return monitor.check(predicted, obstacles, target_xy)
        with self.lock:
            return monitor.check(predicted, obstacles, target_xy, local_map=self.map, now_ns=seconds_to_ns(now_s))

    def veto(self, plan: S1Plan, pose_at_image: Pose2D | None, target_xy: tuple[float, float] | None,
             now_s: float) -> S1Plan:
        """`plan` with its candidates cut or replaced where they meet remembered obstacles."""
        if not (self.enabled and self.veto_enabled) or pose_at_image is None:
            return plan
        with self.lock:
            snapshot = self.map.snapshot()  # sweep the candidates without blocking the camera or control
        res = veto_plan(plan, pose_at_image, snapshot, seconds_to_ns(now_s), self.veto_config, target_xy)
        if res.vetoed and res.reason != self.last_veto:
            self.log.info(res.reason)
        self.last_veto = res.reason
        return res.plan

    # ------------------------------------------------------------------ for the mission's dead-end memory
    def directions(self, pose: Pose2D, now_s: float, count: int = 16, horizon_m: float = 1.5) -> list[dict]:
        """Per bearing: free distance to a remembered obstacle, blocked or not, share visited."""
        with self.lock:
            return self.map.directions(pose, seconds_to_ns(now_s), count, horizon_m, self.veto_config.robot_radius_m)

    def visits(self, x_m: float, y_m: float, now_s: float) -> tuple[int, float]:
        """(times the robot has come back to (x, y), seconds since it was last there)."""
        with self.lock:
            return self.map.visit_count(x_m, y_m), self.map.visited_age_s(x_m, y_m, seconds_to_ns(now_s))

    def update_ms_median(self) -> float:
        vals = sorted(self.update_s)
        return vals[len(vals) // 2] * 1e3 if vals else float("nan")

    def publish(self) -> None:
        if self.pub is None or self.pub.get_subscription_count() == 0:
            return
        now_s = self.time.now_s()
        with self.lock:
            data, (ox, oy), res = self.map.occupancy_grid(seconds_to_ns(now_s))
            n = self.map.n
        msg = OccupancyGrid(header=Header(frame_id=self.odom_frame))
        msg.header.stamp = self.time.now_msg()
        msg.info.resolution = float(res)
        msg.info.width = msg.info.height = int(n)
        msg.info.origin.position.x, msg.info.origin.position.y = float(ox), float(oy)
        msg.info.origin.orientation.w = 1.0
        msg.data = data.astype(np.int8).ravel().tolist()
        self.pub.publish(msg)
