"""Timestamped odometry history, interpolated at image stamps.

S1 plans in the base frame at the moment the image was taken, and S2's pixel belongs to that
moment too. With about a second of VLM latency the robot has moved by then, so every image-time
quantity is placed in odom with the pose *at the image stamp*, not the latest one.
Stamps come from message headers, never from the wall clock.
"""
from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass

from lingnav_core.angles import wrap
from lingnav_ros.control.types import Pose2D


@dataclass(frozen=True)
class OdomSample:
    stamp_s: float
    pose: Pose2D
    v_mps: float = 0.0
    w_radps: float = 0.0


class OdomBuffer:
    """Thread-safe: the odometry callback writes while planner threads read."""

    def __init__(self, history_s: float = 5.0, max_extrapolation_s: float = 0.25) -> None:
        self.history_s = history_s
        self.max_extrapolation_s = max_extrapolation_s
        self._stamps: list[float] = []
        self._samples: list[OdomSample] = []
        self._lock = threading.Lock()

    def add(self, sample: OdomSample) -> None:
        with self._lock:
            if self._stamps and sample.stamp_s < self._stamps[-1] - 1.0:
                # time jumped back (bag loop, sim reset): the old history is meaningless now
                self._stamps.clear()
                self._samples.clear()
            i = bisect.bisect_right(self._stamps, sample.stamp_s)
            self._stamps.insert(i, sample.stamp_s)
            self._samples.insert(i, sample)
            cut = bisect.bisect_left(self._stamps, self._stamps[-1] - self.history_s)
            if cut > 0:
                del self._stamps[:cut]
                del self._samples[:cut]

    def clear(self) -> None:
        with self._lock:
            self._stamps.clear()
            self._samples.clear()

    def latest(self) -> OdomSample | None:
        with self._lock:
            return self._samples[-1] if self._samples else None

    def __len__(self) -> int:
        return len(self._samples)

    def pose_at(self, stamp_s: float) -> Pose2D | None:
        """Pose at `stamp_s`: interpolated inside the history, extrapolated with the last twist a
        little past its end; None when the stamp is outside what the buffer can answer."""
        with self._lock:
            if not self._samples:
                return None
            stamps, samples = self._stamps, self._samples
            if stamp_s < stamps[0] - 1e-6:
                return None
            if stamp_s >= stamps[-1]:
                last = samples[-1]
                dt = stamp_s - last.stamp_s
                if dt > self.max_extrapolation_s:
                    return None
                return _integrate(last.pose, last.v_mps, last.w_radps, dt)
            i = bisect.bisect_right(stamps, stamp_s)
            a, b = samples[i - 1], samples[i]
        span = b.stamp_s - a.stamp_s
        f = 0.0 if span <= 0 else (stamp_s - a.stamp_s) / span
        return interpolate_pose(a.pose, b.pose, f)


def interpolate_pose(a: Pose2D, b: Pose2D, f: float) -> Pose2D:
    dth = wrap(b.theta_rad - a.theta_rad)
    return Pose2D(a.x_m + f * (b.x_m - a.x_m), a.y_m + f * (b.y_m - a.y_m), wrap(a.theta_rad + f * dth))


def _integrate(p: Pose2D, v: float, w: float, dt: float) -> Pose2D:
    th_mid = p.theta_rad + 0.5 * w * dt
    return Pose2D(p.x_m + v * dt * math.cos(th_mid), p.y_m + v * dt * math.sin(th_mid),
                  wrap(p.theta_rad + w * dt))


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
